import { consumerAddress, consumerOutput, consumerResource, type ConsumerAddressInput } from './consumer-address.js';
import type { KinesisOperation } from './operation.js';

export type DescribeStreamConsumerInput = ConsumerAddressInput;

export const describeStreamConsumer: KinesisOperation<DescribeStreamConsumerInput> = {
  name: 'DescribeStreamConsumer',
  resource: consumerResource,
  async handle(input, { store }) {
    const view = store.consumers.find(consumerAddress(input));
    return { ConsumerDescription: { ...consumerOutput(view), StreamARN: store.streamArn(view.streamName) } };
  },
};
