import { consumerOutput } from './consumer-address.js';
import type { KinesisOperation } from './operation.js';

export interface RegisterStreamConsumerInput {
  StreamARN: string;
  ConsumerName: string;
  Tags?: Record<string, string>;
}

export const registerStreamConsumer: KinesisOperation<RegisterStreamConsumerInput> = {
  name: 'RegisterStreamConsumer',
  resource: (input) => input.StreamARN,
  async handle(input, { store }) {
    const view = await store.consumers.register(input.StreamARN, input.ConsumerName);
    return { Consumer: consumerOutput(view) };
  },
};
