import type { StreamStore } from '../../store/streams.js';
import { checkTagKeys } from './add-tags-to-stream.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';
import { writableHolderOf, type TaggedResource } from './resource-arn.js';

export interface RemoveTagsFromStreamInput extends StreamAddress {
  TagKeys: string[];
}

export const removeTagsFromStream: KinesisOperation<RemoveTagsFromStreamInput> = {
  name: 'RemoveTagsFromStream',
  resource: streamResource,
  async handle(input, { store }) {
    await removeTags(store, { stream: streamRef(input) }, input.TagKeys);
    return {};
  },
};

/** "If you specify a tag that does not exist, it is ignored." (RemoveTagsFromStream API reference) */
export async function removeTags(store: StreamStore, resource: TaggedResource, keys: readonly string[]): Promise<void> {
  checkTagKeys(keys);
  store.describeActive(resource.stream);
  await store.updateMeta(
    resource.stream,
    (meta) => {
      const holder = writableHolderOf(meta, resource);
      for (const key of keys) delete holder.tags[key];
    },
    { requireActive: true },
  );
}
