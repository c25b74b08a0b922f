import type { IteratorType } from '../../store/streams.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface GetShardIteratorInput extends StreamAddress {
  ShardId: string;
  ShardIteratorType: IteratorType;
  StartingSequenceNumber?: string;
  Timestamp?: Date;
}

export const getShardIterator: KinesisOperation<GetShardIteratorInput> = {
  name: 'GetShardIterator',
  resource: streamResource,
  async handle(input, { store }) {
    const iterator = await store.getShardIterator(streamRef(input), input.ShardId, input.ShardIteratorType, input.StartingSequenceNumber, input.Timestamp);
    return { ShardIterator: iterator };
  },
};
