import { consumerAddress, consumerResource, type ConsumerAddressInput } from './consumer-address.js';
import type { KinesisOperation } from './operation.js';

export type DeregisterStreamConsumerInput = ConsumerAddressInput;

export const deregisterStreamConsumer: KinesisOperation<DeregisterStreamConsumerInput> = {
  name: 'DeregisterStreamConsumer',
  resource: consumerResource,
  async handle(input, { store }) {
    await store.consumers.deregister(consumerAddress(input));
    return {};
  },
};
