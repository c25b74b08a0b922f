/**
 * What a hosted function receives and what a failure destination gets, in Lambda's shapes
 * (Lambda developer guide: "Using Lambda with Kinesis" event example; "Capturing discarded
 * batches" invocation record).
 */
import type { ReadResult } from '../../store/streams.js';

export type StoredRecord = ReadResult['records'][number];

export interface LambdaSource {
  region: string;
  streamArn: string;
  shardId: string;
}

export function kinesisEventRecord(record: StoredRecord, source: LambdaSource): Record<string, unknown> {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: record.data.toString('base64'),
      approximateArrivalTimestamp: record.arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${record.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${source.streamArn.split(':')[4]}:role/riffle-function`,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}

/** The record as FilterCriteria patterns see it: `data` parsed when it is JSON. */
export function filterView(record: StoredRecord): Record<string, unknown> {
  let data: unknown = record.data.toString('base64');
  try {
    data = JSON.parse(record.data.toString('utf8'));
  } catch {
    // not JSON: only metadata patterns can match it
  }
  return {
    kinesisSchemaVersion: '1.0',
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    approximateArrivalTimestamp: record.arrivalMs / 1000,
    data,
  };
}

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export function failureRecord(input: {
  records: readonly StoredRecord[];
  source: LambdaSource;
  functionArn: string;
  condition: FailureCondition;
  invokeCount: number;
  lastError?: { errorType: string };
  requestId: string;
  nowMs: number;
}): Record<string, unknown> {
  const first = input.records[0]!;
  const last = input.records[input.records.length - 1]!;
  return {
    requestContext: { requestId: input.requestId, functionArn: input.functionArn, condition: input.condition, approximateInvokeCount: input.invokeCount },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: input.lastError ? 'Unhandled' : '' },
    version: '1.0',
    timestamp: new Date(input.nowMs).toISOString(),
    KinesisBatchInfo: {
      shardId: input.source.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: input.records.length,
      streamArn: input.source.streamArn,
    },
  };
}
