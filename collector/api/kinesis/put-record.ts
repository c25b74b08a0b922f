import { AwsError } from '../../../shared/errors.js';
import { MAX_HASH_KEY } from '../../../shared/hash-key.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface PutRecordInput extends StreamAddress {
  Data: Buffer;
  PartitionKey: string;
  ExplicitHashKey?: string;
  SequenceNumberForOrdering?: string;
}

export const putRecord: KinesisOperation<PutRecordInput> = {
  name: 'PutRecord',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    checkExplicitHashKey(input.ExplicitHashKey);
    checkRecordSize(input.Data, input.PartitionKey, store.maxRecordBytes(ref));
    const started = Date.now();
    const [result] = await store.putRecords(ref, [
      { data: input.Data, partitionKey: input.PartitionKey, ...(input.ExplicitHashKey !== undefined ? { explicitHashKey: input.ExplicitHashKey } : {}) },
    ]);
    if (!result || 'errorCode' in result) {
      throw new AwsError(result?.errorCode ?? 'InternalFailure', result?.errorMessage ?? 'Internal service failure.');
    }
    const name = store.nameOf(ref);
    store.metrics.add(name, 'PutRecord.Success', 1);
    store.metrics.add(name, 'PutRecords.Latency', Date.now() - started);
    return { ShardId: result.shardId, SequenceNumber: result.sequenceNumber, ...(result.encrypted ? { EncryptionType: 'KMS' } : {}) };
  },
};

/** ExplicitHashKey must be a decimal in [0, 2^128 − 1]; the model only checks its pattern. */
export function checkExplicitHashKey(value: string | undefined): void {
  if (value === undefined) return;
  if (BigInt(value) > MAX_HASH_KEY) {
    throw new AwsError(
      'InvalidArgumentException',
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${value}`,
    );
  }
}

/**
 * Kinesis quota: a record's data plus partition key is at most the stream's max record size (1 MiB
 * by default). Returns that size, which PutRecords also sums against its request quota.
 */
export function checkRecordSize(data: Buffer, partitionKey: string | Buffer, maxBytes: number): number {
  const size = data.length + Buffer.byteLength(partitionKey);
  if (size > maxBytes) {
    throw new AwsError('ValidationException', `1 validation error detected: Value at 'data' failed to satisfy constraint: Member must have length less than or equal to ${maxBytes}`);
  }
  return size;
}
