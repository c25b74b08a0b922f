import { AwsError } from '../../../shared/errors.js';
import type { StreamStore } from '../../store/streams.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';
import { writableHolderOf, type TaggedResource } from './resource-arn.js';

export interface AddTagsToStreamInput extends StreamAddress {
  Tags: Record<string, string>;
}

export const addTagsToStream: KinesisOperation<AddTagsToStreamInput> = {
  name: 'AddTagsToStream',
  resource: streamResource,
  async handle(input, { store }) {
    await addTags(store, { stream: streamRef(input) }, input.Tags);
    return {};
  },
};

// Tag rules (TagResource API reference): "Tags may only contain Unicode letters, digits, white
// space, or these symbols: _ . : / = + - @"; the `aws:` key prefix is reserved for AWS.
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RESERVED_KEY_PREFIX = 'aws:';

export function checkTagKeys(keys: readonly string[]): void {
  if (keys.some((key) => !TAG_CHARACTERS.test(key))) throw invalidTagCharacters();
  const reserved = keys.filter((key) => key.toLowerCase().startsWith(RESERVED_KEY_PREFIX));
  if (reserved.length > 0) {
    throw new AwsError('InvalidArgumentException', `Tag keys starting with '${RESERVED_KEY_PREFIX}' are reserved for AWS use. Invalid keys: ${reserved.join(', ')}`);
  }
}

export function checkTags(tags: Record<string, string>): void {
  checkTagKeys(Object.keys(tags));
  if (Object.values(tags).some((value) => !TAG_CHARACTERS.test(value))) throw invalidTagCharacters();
}

function invalidTagCharacters(): AwsError {
  return new AwsError('InvalidArgumentException', 'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . : / = + - @.');
}

/** Adds or overwrites tags; tags change only on an ACTIVE stream ("you can't make any updates to the tags until the stream is in ACTIVE state" — CreateStream API reference). */
export async function addTags(store: StreamStore, resource: TaggedResource, tags: Record<string, string>): Promise<void> {
  checkTags(tags);
  store.describeActive(resource.stream);
  await store.updateMeta(
    resource.stream,
    (meta) => {
      const holder = writableHolderOf(meta, resource);
      store.checkTagCount(resource.consumerName ?? meta.name, tags, holder.tags);
      Object.assign(holder.tags, tags);
    },
    { requireActive: true },
  );
}
