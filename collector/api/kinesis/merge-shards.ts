import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';
import { requireProvisioned } from './update-shard-count.js';

export interface MergeShardsInput extends StreamAddress {
  ShardToMerge: string;
  AdjacentShardToMerge: string;
}

export const mergeShards: KinesisOperation<MergeShardsInput> = {
  name: 'MergeShards',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    requireProvisioned(store.describeActive(ref), 'MergeShards', store.accountId);
    await store.mergeShards(ref, input.ShardToMerge, input.AdjacentShardToMerge);
    return {};
  },
};
