import { AwsError } from '../../../shared/errors.js';
import { checkExplicitHashKey, checkRecordSize } from './put-record.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface PutRecordsInput extends StreamAddress {
  Records: Array<{ Data: Buffer; PartitionKey: string; ExplicitHashKey?: string }>;
}

/** PutRecords quota: 500 records (the model checks) and 5 MiB including partition keys. */
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export const putRecords: KinesisOperation<PutRecordsInput> = {
  name: 'PutRecords',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const maxRecordBytes = store.maxRecordBytes(ref);
    let total = 0;
    for (const record of input.Records) {
      checkExplicitHashKey(record.ExplicitHashKey);
      checkRecordSize(record.Data, record.PartitionKey, maxRecordBytes);
      total += record.Data.length + Buffer.byteLength(record.PartitionKey);
    }
    if (total > MAX_REQUEST_BYTES) {
      throw new AwsError('InvalidArgumentException', `Records size exceeds 5 MB limit`);
    }
    const started = Date.now();
    const results = await store.putRecords(
      ref,
      input.Records.map((r) => ({ data: r.Data, partitionKey: r.PartitionKey, ...(r.ExplicitHashKey !== undefined ? { explicitHashKey: r.ExplicitHashKey } : {}) })),
    );
    let failed = 0;
    let encrypted = false;
    const records = results.map((result) => {
      if ('errorCode' in result) {
        failed++;
        return { ErrorCode: result.errorCode, ErrorMessage: result.errorMessage };
      }
      encrypted ||= result.encrypted;
      return { SequenceNumber: result.sequenceNumber, ShardId: result.shardId };
    });
    const name = store.nameOf(ref);
    if (failed < results.length) store.metrics.add(name, 'PutRecords.Success', 1);
    store.metrics.add(name, 'PutRecords.FailedRecords', failed);
    store.metrics.add(name, 'PutRecords.Latency', Date.now() - started);
    return { FailedRecordCount: failed, Records: records, ...(encrypted ? { EncryptionType: 'KMS' } : {}) };
  },
};
