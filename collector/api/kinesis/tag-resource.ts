import { addTags } from './add-tags-to-stream.js';
import type { KinesisOperation } from './operation.js';
import { resourceOf } from './resource-arn.js';

export interface TagResourceInput {
  ResourceARN: string;
  Tags: Record<string, string>;
}

export const tagResource: KinesisOperation<TagResourceInput> = {
  name: 'TagResource',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    await addTags(store, resourceOf(store, input.ResourceARN), input.Tags);
    return {};
  },
};
