import type { StreamRef, StreamStore } from '../../store/streams.js';
import { checkTagKeys } from './add-tags-to-stream.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface RemoveTagsFromStreamInput extends StreamAddress {
  TagKeys: string[];
}

export const removeTagsFromStream: KinesisOperation<RemoveTagsFromStreamInput> = {
  name: 'RemoveTagsFromStream',
  resource: streamResource,
  async handle(input, { store }) {
    await removeTags(store, streamRef(input), input.TagKeys);
    return {};
  },
};

/** "If you specify a tag that does not exist, it is ignored." (RemoveTagsFromStream API reference) */
export async function removeTags(store: StreamStore, ref: StreamRef, keys: readonly string[]): Promise<void> {
  checkTagKeys(keys);
  store.describeActive(ref);
  await store.updateMeta(
    ref,
    (meta) => {
      for (const key of keys) delete meta.tags[key];
    },
    { requireActive: true },
  );
}
