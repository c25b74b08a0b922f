import type { KinesisOperation } from './operation.js';
import { removeTags } from './remove-tags-from-stream.js';
import { resourceOf } from './resource-arn.js';

export interface UntagResourceInput {
  ResourceARN: string;
  TagKeys: string[];
}

export const untagResource: KinesisOperation<UntagResourceInput> = {
  name: 'UntagResource',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    await removeTags(store, resourceOf(store, input.ResourceARN), input.TagKeys);
    return {};
  },
};
