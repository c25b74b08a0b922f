import { GET_RECORDS_MAX_RECORDS, type ReadResult } from '../../store/streams.js';
import type { KinesisOperation } from './operation.js';

export interface GetRecordsInput {
  ShardIterator: string;
  Limit?: number;
  StreamARN?: string;
}

export const getRecords: KinesisOperation<GetRecordsInput> = {
  name: 'GetRecords',
  // The iterator names the stream; an ARN, when given, is what access policies see.
  resource: (input) => input.StreamARN,
  async handle(input, { store }) {
    const result = await store.getRecords(input.ShardIterator, input.Limit ?? GET_RECORDS_MAX_RECORDS);
    return {
      Records: recordsOutput(result.records),
      ...(result.nextIterator !== undefined ? { NextShardIterator: result.nextIterator } : {}),
      MillisBehindLatest: result.millisBehindLatest,
      ...(result.childShards ? { ChildShards: childShardsOutput(result.childShards) } : {}),
    };
  },
};

/** Records as GetRecords and SubscribeToShardEvent show them. */
export function recordsOutput(records: ReadResult['records']): Array<Record<string, unknown>> {
  return records.map((r) => ({
    SequenceNumber: r.sequenceNumber,
    ApproximateArrivalTimestamp: new Date(r.arrivalMs),
    Data: r.data,
    PartitionKey: r.partitionKey,
    ...(r.encrypted ? { EncryptionType: 'KMS' } : {}),
  }));
}

/** The children of a shard read to its end, as GetRecords and SubscribeToShardEvent show them. */
export function childShardsOutput(children: NonNullable<ReadResult['childShards']>): Array<Record<string, unknown>> {
  return children.map((c) => ({
    ShardId: c.shardId,
    ParentShards: c.parentShards,
    HashKeyRange: { StartingHashKey: c.startingHashKey, EndingHashKey: c.endingHashKey },
  }));
}
