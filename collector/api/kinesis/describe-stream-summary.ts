import { streamDescription } from './describe-stream.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export type DescribeStreamSummaryInput = StreamAddress;

export const describeStreamSummary: KinesisOperation<DescribeStreamSummaryInput> = {
  name: 'DescribeStreamSummary',
  resource: streamResource,
  async handle(input, { store }) {
    const meta = store.describe(streamRef(input));
    return {
      StreamDescriptionSummary: {
        ...streamDescription(store, meta),
        OpenShardCount: meta.shards.filter((shard) => shard.closedMs === undefined).length,
        ConsumerCount: meta.consumers?.length ?? 0,
        MaxRecordSizeInKiB: meta.maxRecordSizeKiB,
        ...(meta.warmThroughputMiBps !== undefined ? { WarmThroughput: { TargetMiBps: meta.warmThroughputMiBps, CurrentMiBps: meta.warmThroughputMiBps } } : {}),
      },
    };
  },
};
