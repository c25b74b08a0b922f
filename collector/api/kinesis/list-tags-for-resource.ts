import { tagList } from './list-tags-for-stream.js';
import type { KinesisOperation } from './operation.js';
import { holderOf, resourceOf } from './resource-arn.js';

export interface ListTagsForResourceInput {
  ResourceARN: string;
}

export const listTagsForResource: KinesisOperation<ListTagsForResourceInput> = {
  name: 'ListTagsForResource',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    const resource = resourceOf(store, input.ResourceARN);
    return { Tags: tagList(holderOf(store.describe(resource.stream), resource).tags) };
  },
};
