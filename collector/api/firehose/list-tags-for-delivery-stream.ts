import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface ListTagsForDeliveryStreamInput {
  DeliveryStreamName: string;
  ExclusiveStartTagKey?: string;
  Limit?: number;
}

// ListTagsForDeliveryStream: Limit defaults to 50 (Firehose API reference).
const DEFAULT_LIMIT = 50;

export const listTagsForDeliveryStream: FirehoseOperation<ListTagsForDeliveryStreamInput> = {
  name: 'ListTagsForDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const meta = deliveryStreams.get(input.DeliveryStreamName);
    const start = input.ExclusiveStartTagKey;
    const tags = [...meta.tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0)).filter((tag) => start === undefined || tag.Key > start);
    const limit = input.Limit ?? DEFAULT_LIMIT;
    return { Tags: tags.slice(0, limit), HasMoreTags: tags.length > limit };
  },
};
