import { realTimers, subscribeToShard as openSubscription } from '../../consumers/subscribe-to-shard.js';
import type { IteratorType } from '../../store/streams.js';
import type { KinesisOperation } from './operation.js';

export interface SubscribeToShardInput {
  ConsumerARN: string;
  ShardId: string;
  StartingPosition: { Type: IteratorType; SequenceNumber?: string; Timestamp?: Date };
}

/** Answers with an event stream (see collector/consumers/subscribe-to-shard.ts). */
export const subscribeToShard: KinesisOperation<SubscribeToShardInput> = {
  name: 'SubscribeToShard',
  resource: (input) => input.ConsumerARN,
  async handle(input, { store }) {
    const position = input.StartingPosition;
    return openSubscription(
      store,
      {
        consumerArn: input.ConsumerARN,
        shardId: input.ShardId,
        startingPosition: {
          type: position.Type,
          ...(position.SequenceNumber !== undefined ? { sequenceNumber: position.SequenceNumber } : {}),
          ...(position.Timestamp !== undefined ? { timestamp: position.Timestamp } : {}),
        },
      },
      realTimers({ now: () => store.now() }),
    );
  },
};
