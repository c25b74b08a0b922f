import { AwsError } from '../../../shared/errors.js';
import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface WireTag {
  Key: string;
  Value?: string;
}

export interface TagDeliveryStreamInput {
  DeliveryStreamName: string;
  /** 1–50 tags per call (the model checks). */
  Tags: WireTag[];
}

// Firehose: at most 50 tags per delivery stream.
const MAX_TAGS = 50;

export function checkTagLimit(count: number): void {
  if (count > MAX_TAGS) {
    throw new AwsError('LimitExceededException', `A delivery stream can have at most ${MAX_TAGS} tags; this request would leave ${count}.`);
  }
}

export const tagDeliveryStream: FirehoseOperation<TagDeliveryStreamInput> = {
  name: 'TagDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    await deliveryStreams.update(input.DeliveryStreamName, (meta) => {
      const tags = new Map(meta.tags.map((tag) => [tag.Key, tag]));
      for (const tag of input.Tags) tags.set(tag.Key, { Key: tag.Key, ...(tag.Value !== undefined ? { Value: tag.Value } : {}) });
      checkTagLimit(tags.size);
      return { ...meta, tags: [...tags.values()] };
    });
    return {};
  },
};
