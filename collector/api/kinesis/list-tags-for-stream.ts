import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface ListTagsForStreamInput extends StreamAddress {
  ExclusiveStartTagKey?: string;
  Limit?: number;
}

/** The model's Limit maximum, which is also a stream's tag quota: by default one page holds every tag. */
const DEFAULT_TAGS_PER_PAGE = 50;

export const listTagsForStream: KinesisOperation<ListTagsForStreamInput> = {
  name: 'ListTagsForStream',
  resource: streamResource,
  async handle(input, { store }) {
    const { tags } = store.describe(streamRef(input));
    const after = input.ExclusiveStartTagKey;
    const keys = Object.keys(tags)
      .sort()
      .filter((key) => after === undefined || key > after);
    const limit = input.Limit ?? DEFAULT_TAGS_PER_PAGE;
    return { Tags: tagList(tags, keys.slice(0, limit)), HasMoreTags: keys.length > limit };
  },
};

/** Tags as the List*Tags* operations answer them, by key. */
export function tagList(tags: Record<string, string>, keys: readonly string[] = Object.keys(tags).sort()): Array<{ Key: string; Value: string }> {
  return keys.map((key) => ({ Key: key, Value: tags[key] ?? '' }));
}
