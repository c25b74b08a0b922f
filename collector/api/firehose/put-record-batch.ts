import { AwsError } from '../../../shared/errors.js';
import { deliveryStreamResource, type FirehoseOperation } from './operation.js';
import { recordIdOf } from './put-record.js';

export interface PutRecordBatchInput {
  DeliveryStreamName: string;
  /** PutRecordBatch quota: 500 records (the model checks), each at most 1,000 KiB (the model checks). */
  Records: Array<{ Data: Buffer }>;
}

// PutRecordBatch quota: 4 MiB per call (Firehose quotas).
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export const putRecordBatch: FirehoseOperation<PutRecordBatchInput> = {
  name: 'PutRecordBatch',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const meta = deliveryStreams.get(input.DeliveryStreamName);
    const sizes = input.Records.map((record) => record.Data.length);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    if (total > MAX_REQUEST_BYTES) throw new AwsError('InvalidArgumentException', 'Records size exceeds 4 MB limit');
    // Records past the stream's backlog allowance fail one by one (HTTP 200, FailedPutCount), as Firehose throttles.
    const accepted = deliveryStreams.acceptableCount(meta.name, sizes);
    let results: Array<{ RecordId: string } | { ErrorCode: string; ErrorMessage: string }> = [];
    let encrypted = meta.encryption.status === 'ENABLED';
    if (accepted > 0) {
      const put = await deliveryStreams.put(meta.name, input.Records.slice(0, accepted).map((record) => record.Data));
      encrypted = put.encrypted;
      results = input.Records.slice(0, accepted).map((_, index) => ({ RecordId: recordIdOf(meta.createdMs, put.ordinal + index) }));
    }
    deliveryStreams.countThrottled(meta.name, input.Records.length - accepted);
    for (let index = accepted; index < input.Records.length; index++) {
      results.push({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
    }
    return { FailedPutCount: input.Records.length - accepted, Encrypted: encrypted, RequestResponses: results };
  },
};
