import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface UntagDeliveryStreamInput {
  DeliveryStreamName: string;
  TagKeys: string[];
}

export const untagDeliveryStream: FirehoseOperation<UntagDeliveryStreamInput> = {
  name: 'UntagDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const remove = new Set(input.TagKeys);
    await deliveryStreams.update(input.DeliveryStreamName, (meta) => ({ ...meta, tags: meta.tags.filter((tag) => !remove.has(tag.Key)) }));
    return {};
  },
};
