import type { StreamStore } from '../../store/streams.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface EnhancedMonitoringInput extends StreamAddress {
  ShardLevelMetrics: string[];
}

export const enableEnhancedMonitoring: KinesisOperation<EnhancedMonitoringInput> = {
  name: 'EnableEnhancedMonitoring',
  resource: streamResource,
  handle: (input, { store }) => changeShardLevelMetrics(store, input, 'enable'),
};

/** The shard-level metrics Kinesis offers, in its documented order; "ALL" names every one (EnableEnhancedMonitoring API reference). */
const SHARD_LEVEL_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
];

/** Enables or disables metrics, answering with the metrics before (Current) and after (Desired) the change. */
export async function changeShardLevelMetrics(store: StreamStore, input: EnhancedMonitoringInput, change: 'enable' | 'disable') {
  const ref = streamRef(input);
  const current = [...store.describeActive(ref).enhancedMonitoring];
  const named = new Set(input.ShardLevelMetrics.includes('ALL') ? SHARD_LEVEL_METRICS : input.ShardLevelMetrics);
  const updated = await store.updateMeta(
    ref,
    (meta) => {
      const enabled = new Set(meta.enhancedMonitoring);
      meta.enhancedMonitoring = SHARD_LEVEL_METRICS.filter((metric) => (change === 'enable' ? enabled.has(metric) || named.has(metric) : enabled.has(metric) && !named.has(metric)));
    },
    { requireActive: true },
  );
  return {
    StreamName: updated.name,
    CurrentShardLevelMetrics: current,
    DesiredShardLevelMetrics: updated.enhancedMonitoring,
    StreamARN: store.streamArn(updated.name),
  };
}
