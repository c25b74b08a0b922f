/**
 * `firehose` sink: PutRecordBatch (`Firehose_20150804.PutRecordBatch`) to Amazon Data Firehose
 * (or, once it speaks the Firehose API, a Riffle collector), for flows with `deliveryStream`.
 * Firehose has no partition keys; records carry only their data.
 *
 * Per record: a RequestResponses entry with an ErrorCode is `retry` — ServiceUnavailableException
 * ("Slow down.", the delivery stream's quota) with `throttled`, InternalFailure without; an
 * entry without one is `ok`. Whole-call failures are mapped in shared/aws-client.ts.
 */
import { AwsJsonClient } from '../../shared/aws-client.js';
import { sendBatch, type BatchOperation } from './batch-call.js';
import { encodeRecordsBody, type RecordsBodyShape } from './records-body.js';
import type { SinkLimits, SinkSpec } from './sink.js';

// PutRecordBatch: 500 records and 4 MiB per call; a record at most 1,000 KiB — Firehose quotas.
const firehoseLimits: SinkLimits = { maxRecords: 500, maxBatchBytes: 4 * 1024 * 1024, maxRecordBytes: 1000 * 1024 };

const putRecordBatchShape: RecordsBodyShape = { streamMember: 'DeliveryStreamName', partitionKeys: false };

const putRecordBatch: BatchOperation = {
  target: 'Firehose_20150804.PutRecordBatch',
  limits: firehoseLimits,
  recordBytes: (dataBytes) => dataBytes,
  body: (deliveryStreamName, records) => encodeRecordsBody(putRecordBatchShape, deliveryStreamName, records),
  resultsMember: 'RequestResponses',
  throttledErrorCode: 'ServiceUnavailableException',
};

export const firehoseSink: SinkSpec = {
  kind: 'firehose',
  limits: firehoseLimits,
  create(options, context) {
    const client = new AwsJsonClient('firehose', options, context);
    return {
      name: `firehose ${client.endpoint.origin}`,
      limits: firehoseLimits,
      send: (deliveryStreamName, records) => sendBatch(client, putRecordBatch, deliveryStreamName, records),
      close: () => client.close(),
    };
  },
};
