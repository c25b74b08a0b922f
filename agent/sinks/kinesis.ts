/**
 * `kinesis` sink: PutRecords (`Kinesis_20131202.PutRecords`) to a Riffle collector or to Amazon
 * Kinesis Data Streams, for flows with `kinesisStream`. To a collector the body is CBOR 1.1
 * (records-cbor.ts: the data as byte strings, no base64), to AWS JSON 1.1 (records-body.ts).
 *
 * Per record: a result with an ErrorCode is `retry` — ProvisionedThroughputExceededException
 * (the shard's write quota) with `throttled`, InternalFailure without; a result without one
 * is `ok`. Whole-call failures are mapped in shared/aws-client.ts.
 */
import { AwsJsonClient } from '../../shared/aws-client.js';
import { sendBatch, type BatchOperation } from './batch-call.js';
import { encodeRecordsBody, type RecordsBodyShape } from './records-body.js';
import { encodeRecordsCbor } from './records-cbor.js';
import { sinkErrorCodes, type SinkLimits, type SinkSpec } from './sink.js';
import { utf8Length } from '../../shared/buffer-writer.js';

// PutRecords: 500 records and 5 MiB per call; a record at most 1 MiB, data and partition key
// together — Kinesis Data Streams quotas.
const kinesisLimits: SinkLimits = { maxRecords: 500, maxBatchBytes: 5 * 1024 * 1024, maxRecordBytes: 1024 * 1024 };
// PartitionKey: 1 to 256 Unicode characters — Kinesis API reference, PutRecordsRequestEntry.
const MAX_PARTITION_KEY_CHARACTERS = 256;

const putRecordsShape: RecordsBodyShape = { streamMember: 'StreamName', partitionKeys: true };

const putRecords: BatchOperation = {
  target: 'Kinesis_20131202.PutRecords',
  limits: kinesisLimits,
  recordBytes: (dataBytes, partitionKey = '') => dataBytes + utf8Length(partitionKey),
  invalidPartitionKey(partitionKey = '') {
    const { length } = partitionKey;
    // UTF-16 units are at least the characters: a key of 1 to 256 units is within bounds.
    if (length >= 1 && length <= MAX_PARTITION_KEY_CHARACTERS) return undefined;
    const characters = [...partitionKey].length;
    if (characters >= 1 && characters <= MAX_PARTITION_KEY_CHARACTERS) return undefined;
    return { kind: 'error', code: sinkErrorCodes.invalidPartitionKey, message: `partition key of ${characters} characters; 1 to ${MAX_PARTITION_KEY_CHARACTERS} allowed` };
  },
  body: (streamName, records) => encodeRecordsBody(putRecordsShape, streamName, records),
  cborBody: (streamName, records) => encodeRecordsCbor(putRecordsShape, streamName, records),
  resultsMember: 'Records',
  throttledErrorCode: 'ProvisionedThroughputExceededException',
};

export const kinesisSink: SinkSpec = {
  kind: 'kinesis',
  limits: kinesisLimits,
  create(options, context) {
    const client = new AwsJsonClient('kinesis', options, context);
    return {
      name: `kinesis ${client.endpoint.origin}`,
      limits: kinesisLimits,
      send: (streamName, records) => sendBatch(client, putRecords, streamName, records),
      close: () => client.close(),
    };
  },
};
