import type { StreamMeta } from '../../store/metadata.js';
import type { ShardView, StreamRef, StreamStore } from '../../store/streams.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface DescribeStreamInput extends StreamAddress {
  Limit?: number;
  ExclusiveStartShardId?: string;
}

/** DescribeStream Limit: default 100; "If you specify a value greater than 100, at most 100 results are returned." */
const MAX_SHARDS_PER_PAGE = 100;

export const describeStream: KinesisOperation<DescribeStreamInput> = {
  name: 'DescribeStream',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const meta = store.describe(ref);
    // A stream shows no shards until it is ACTIVE, as on AWS.
    const shards = meta.status === 'CREATING' ? [] : retainedShards(store, ref);
    const after = input.ExclusiveStartShardId;
    const following = after === undefined ? shards : shards.filter((shard) => shard.shardId > after);
    const limit = Math.min(input.Limit ?? MAX_SHARDS_PER_PAGE, MAX_SHARDS_PER_PAGE);
    return {
      StreamDescription: {
        ...streamDescription(store, meta),
        Shards: following.slice(0, limit).map(shardToWire),
        HasMoreShards: following.length > limit,
      },
    };
  },
};

/** What DescribeStream and DescribeStreamSummary both report about a stream. */
export function streamDescription(store: StreamStore, meta: StreamMeta) {
  return {
    StreamName: meta.name,
    StreamARN: store.streamArn(meta.name),
    StreamStatus: meta.status,
    StreamModeDetails: { StreamMode: meta.mode },
    RetentionPeriodHours: meta.retentionHours,
    StreamCreationTimestamp: new Date(meta.createdMs),
    EnhancedMonitoring: [{ ShardLevelMetrics: meta.enhancedMonitoring }],
    EncryptionType: meta.encryption.type,
    ...(meta.encryption.keyId !== undefined ? { KeyId: meta.encryption.keyId } : {}),
  };
}

/**
 * A stream's shards in shard-ID order, without expired ones — closed shards whose records all
 * passed the retention period are not listed (ListShards API reference).
 */
export function retainedShards(store: StreamStore, ref: StreamRef): ShardView[] {
  const trimHorizon = store.now() - store.describe(ref).retentionHours * 3600_000;
  return store.shardViews(ref).filter((shard) => shard.meta.closedMs === undefined || shard.meta.closedMs >= trimHorizon);
}

export function shardToWire(shard: ShardView) {
  return {
    ShardId: shard.shardId,
    ...(shard.parentShardId !== undefined ? { ParentShardId: shard.parentShardId } : {}),
    ...(shard.adjacentParentShardId !== undefined ? { AdjacentParentShardId: shard.adjacentParentShardId } : {}),
    HashKeyRange: { StartingHashKey: shard.meta.startingHashKey, EndingHashKey: shard.meta.endingHashKey },
    SequenceNumberRange: {
      StartingSequenceNumber: shard.startingSequenceNumber,
      ...(shard.endingSequenceNumber !== undefined ? { EndingSequenceNumber: shard.endingSequenceNumber } : {}),
    },
  };
}
