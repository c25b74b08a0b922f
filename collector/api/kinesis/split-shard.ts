import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';
import { requireProvisioned } from './update-shard-count.js';

export interface SplitShardInput extends StreamAddress {
  ShardToSplit: string;
  NewStartingHashKey: string;
}

export const splitShard: KinesisOperation<SplitShardInput> = {
  name: 'SplitShard',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    requireProvisioned(store.describeActive(ref), 'SplitShard', store.accountId);
    await store.splitShard(ref, input.ShardToSplit, input.NewStartingHashKey);
    return {};
  },
};
