import type { KinesisOperation } from './operation.js';

export const describeLimits: KinesisOperation<Record<string, never>> = {
  name: 'DescribeLimits',
  resource: () => undefined,
  async handle(_input, { store }) {
    return {
      ShardLimit: store.limits.shardLimit,
      OpenShardCount: store.openShardCount(),
      OnDemandStreamCount: store.onDemandStreamCount(),
      OnDemandStreamCountLimit: store.limits.onDemandStreamCountLimit,
    };
  },
};
