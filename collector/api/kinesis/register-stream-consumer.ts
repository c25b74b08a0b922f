import { checkTags } from './add-tags-to-stream.js';
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
    if (input.Tags) {
      checkTags(input.Tags);
      store.checkTagCount(input.ConsumerName, input.Tags, {});
    }
    const view = await store.consumers.register(input.StreamARN, input.ConsumerName, input.Tags);
    return { Consumer: consumerOutput(view) };
  },
};
