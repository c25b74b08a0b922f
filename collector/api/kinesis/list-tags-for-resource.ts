import { tagList } from './list-tags-for-stream.js';
import type { KinesisOperation } from './operation.js';
import { streamOfResource } from './resource-arn.js';

export interface ListTagsForResourceInput {
  ResourceARN: string;
}

export const listTagsForResource: KinesisOperation<ListTagsForResourceInput> = {
  name: 'ListTagsForResource',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    return { Tags: tagList(store.describe(streamOfResource(input.ResourceARN)).tags) };
  },
};
