/**
 * The operations that address a resource by `ResourceARN` (tags by resource, resource policies)
 * accept a stream ARN or a consumer ARN (`…:stream/<name>/consumer/<name>:<creation time>`). A
 * consumer's tags and policy live with it in its stream's metadata.
 */
import { AwsError } from '../../../shared/errors.js';
import { isConsumerArn } from '../../store/consumers.js';
import type { ConsumerMeta, StreamMeta } from '../../store/metadata.js';
import type { StreamRef, StreamStore } from '../../store/streams.js';

/** A stream, or one of its enhanced fan-out consumers. */
export interface TaggedResource {
  stream: StreamRef;
  consumerName?: string;
}

/** What a ResourceARN names; ResourceNotFoundException for a consumer that is not registered. */
export function resourceOf(store: StreamStore, resourceArn: string): TaggedResource {
  if (!isConsumerArn(resourceArn)) return { stream: { streamArn: resourceArn } };
  const { streamName, consumer } = store.consumers.find({ consumerArn: resourceArn });
  return { stream: { streamName }, consumerName: consumer.name };
}

type Holder = Pick<StreamMeta, 'tags' | 'resourcePolicy'> | ConsumerMeta;

/** The part of a stream's metadata that holds the resource's tags and policy, for reading. */
export function holderOf(meta: StreamMeta, resource: TaggedResource): { tags: Record<string, string>; resourcePolicy?: string } {
  const holder = findHolder(meta, resource);
  return { tags: holder.tags ?? {}, ...(holder.resourcePolicy !== undefined ? { resourcePolicy: holder.resourcePolicy } : {}) };
}

/** The same, for changing inside `StreamStore.updateMeta`. */
export function writableHolderOf(meta: StreamMeta, resource: TaggedResource): { tags: Record<string, string>; resourcePolicy?: string } {
  const holder = findHolder(meta, resource);
  holder.tags ??= {};
  return holder as { tags: Record<string, string>; resourcePolicy?: string };
}

function findHolder(meta: StreamMeta, resource: TaggedResource): Holder {
  if (resource.consumerName === undefined) return meta;
  const consumer = meta.consumers?.find((c) => c.name === resource.consumerName);
  if (!consumer) throw new AwsError('ResourceNotFoundException', `Consumer ${resource.consumerName} under stream ${meta.name} not found.`);
  return consumer;
}
