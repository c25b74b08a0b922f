import type { KinesisOperation } from './operation.js';
import { removeTags } from './remove-tags-from-stream.js';
import { streamOfResource } from './resource-arn.js';

export interface UntagResourceInput {
  ResourceARN: string;
  TagKeys: string[];
}

export const untagResource: KinesisOperation<UntagResourceInput> = {
  name: 'UntagResource',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    await removeTags(store, streamOfResource(input.ResourceARN), input.TagKeys);
    return {};
  },
};
