import { AwsError } from '../../../shared/errors.js';
import type { StreamMeta } from '../../store/metadata.js';
import type { ShardView, StreamRef } from '../../store/streams.js';
import { retainedShards, shardToWire } from './describe-stream.js';
import { decodeNextToken, encodeNextToken } from './next-token.js';
import { streamRef, streamResource, type KinesisContext, type KinesisOperation, type StreamAddress } from './operation.js';

export type ShardFilterType = 'AFTER_SHARD_ID' | 'AT_TRIM_HORIZON' | 'FROM_TRIM_HORIZON' | 'AT_LATEST' | 'AT_TIMESTAMP' | 'FROM_TIMESTAMP';

export interface ListShardsInput extends StreamAddress {
  NextToken?: string;
  ExclusiveStartShardId?: string;
  MaxResults?: number;
  StreamCreationTimestamp?: Date;
  ShardFilter?: { Type: ShardFilterType; ShardId?: string; Timestamp?: Date };
}

/** ListShards MaxResults: default 1000; "If you specify a value greater than 1000, at most 1000 results are returned." */
const MAX_SHARDS_PER_PAGE = 1000;

/** A ShardFilter as a NextToken carries it to the following pages. */
interface ShardSelection {
  type: ShardFilterType;
  shardId?: string;
  timestampMs?: number;
}

interface ListShardsPage {
  streamName: string;
  streamCreatedMs: number;
  afterShardId: string;
  selection?: ShardSelection;
}

function isListShardsPage(page: unknown): page is ListShardsPage {
  if (typeof page !== 'object' || page === null) return false;
  const fields = page as Record<string, unknown>;
  return typeof fields.streamName === 'string' && typeof fields.streamCreatedMs === 'number' && typeof fields.afterShardId === 'string';
}

export const listShards: KinesisOperation<ListShardsInput> = {
  name: 'ListShards',
  resource(input, ctx) {
    if (input.StreamName !== undefined || input.StreamARN !== undefined) return streamResource(input, ctx);
    if (input.NextToken !== undefined) return ctx.store.streamArn(decodeNextToken(input.NextToken, ctx.store.now(), isListShardsPage).streamName);
    return undefined;
  },
  async handle(input, ctx) {
    const { store } = ctx;
    const { ref, meta, afterShardId, selection } = input.NextToken !== undefined ? continuePaging(input, input.NextToken, ctx) : startPaging(input, ctx);
    if (selection) checkSelection(selection);
    if (meta.status === 'CREATING') {
      throw new AwsError('ResourceInUseException', `Stream ${meta.name} under account ${store.accountId} not ACTIVE, instead in state CREATING`);
    }
    const selected = selectShards(retainedShards(store, ref), selection, meta, store.now());
    const following = afterShardId === undefined ? selected : selected.filter((shard) => shard.shardId > afterShardId);
    const limit = Math.min(input.MaxResults ?? MAX_SHARDS_PER_PAGE, MAX_SHARDS_PER_PAGE);
    const page = following.slice(0, limit);
    const last = page[page.length - 1];
    const next: ListShardsPage | undefined =
      following.length > limit && last ? { streamName: meta.name, streamCreatedMs: meta.createdMs, afterShardId: last.shardId, ...(selection ? { selection } : {}) } : undefined;
    return { Shards: page.map(shardToWire), ...(next ? { NextToken: encodeNextToken(next, store.now()) } : {}) };
  },
};

interface Paging {
  ref: StreamRef;
  meta: StreamMeta;
  afterShardId: string | undefined;
  selection: ShardSelection | undefined;
}

function startPaging(input: ListShardsInput, { store }: KinesisContext): Paging {
  if (input.StreamName === undefined && input.StreamARN === undefined) {
    throw new AwsError('InvalidArgumentException', 'Either NextToken or StreamName should be provided.');
  }
  const ref = streamRef(input);
  const meta = store.describe(ref);
  // StreamCreationTimestamp tells apart streams of the same name; AWS timestamps are whole seconds on the wire.
  if (input.StreamCreationTimestamp !== undefined && Math.floor(input.StreamCreationTimestamp.getTime() / 1000) !== Math.floor(meta.createdMs / 1000)) {
    throw streamNotFound(meta.name, store.accountId);
  }
  return { ref, meta, afterShardId: input.ExclusiveStartShardId, selection: input.ShardFilter ? selectionOf(input.ShardFilter) : undefined };
}

/** A NextToken names the stream, the position and the filter; "Don't specify StreamName or StreamCreationTimestamp if you specify NextToken". */
function continuePaging(input: ListShardsInput, token: string, { store }: KinesisContext): Paging {
  for (const parameter of ['StreamName', 'StreamARN', 'ExclusiveStartShardId', 'StreamCreationTimestamp'] as const) {
    if (input[parameter] !== undefined) throw new AwsError('InvalidArgumentException', `NextToken and ${parameter} cannot be provided together.`);
  }
  const page = decodeNextToken(token, store.now(), isListShardsPage);
  const ref = { streamName: page.streamName };
  const meta = store.describe(ref);
  // The name now belongs to a stream created after the token was issued.
  if (meta.createdMs !== page.streamCreatedMs) throw streamNotFound(meta.name, store.accountId);
  return { ref, meta, afterShardId: page.afterShardId, selection: input.ShardFilter ? selectionOf(input.ShardFilter) : page.selection };
}

function streamNotFound(name: string, accountId: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Stream ${name} under account ${accountId} not found.`);
}

function selectionOf(filter: NonNullable<ListShardsInput['ShardFilter']>): ShardSelection {
  return {
    type: filter.Type,
    ...(filter.ShardId !== undefined ? { shardId: filter.ShardId } : {}),
    ...(filter.Timestamp !== undefined ? { timestampMs: filter.Timestamp.getTime() } : {}),
  };
}

/** ShardFilter: ShardId goes with AFTER_SHARD_ID only, Timestamp with AT_TIMESTAMP and FROM_TIMESTAMP only (ShardFilter API reference). */
function checkSelection(selection: ShardSelection): void {
  const wantsShardId = selection.type === 'AFTER_SHARD_ID';
  const wantsTimestamp = selection.type === 'AT_TIMESTAMP' || selection.type === 'FROM_TIMESTAMP';
  if (wantsShardId !== (selection.shardId !== undefined)) {
    throw new AwsError(
      'InvalidArgumentException',
      wantsShardId ? 'ShardId must be specified in ShardFilter when the Type is AFTER_SHARD_ID.' : `ShardId can only be specified in ShardFilter when the Type is AFTER_SHARD_ID, not ${selection.type}.`,
    );
  }
  if (wantsTimestamp !== (selection.timestampMs !== undefined)) {
    throw new AwsError(
      'InvalidArgumentException',
      wantsTimestamp
        ? `Timestamp must be specified in ShardFilter when the Type is ${selection.type}.`
        : `Timestamp can only be specified in ShardFilter when the Type is AT_TIMESTAMP or FROM_TIMESTAMP, not ${selection.type}.`,
    );
  }
}

/**
 * ShardFilter semantics (ShardFilter API reference), over the retained shards:
 * AFTER_SHARD_ID — the shards after ShardId; AT_TRIM_HORIZON — those open at the trim horizon;
 * FROM_TRIM_HORIZON (the default) — all of them; AT_LATEST — the open ones; AT_TIMESTAMP — those
 * open at the timestamp; FROM_TIMESTAMP — the open ones and those closed at or after the
 * timestamp. A time before the trim horizon is corrected to it, and the trim horizon of a stream
 * younger than its retention period is the stream's creation.
 */
function selectShards(shards: ShardView[], selection: ShardSelection | undefined, meta: StreamMeta, nowMs: number): ShardView[] {
  if (!selection) return shards;
  const trimHorizon = Math.max(nowMs - meta.retentionHours * 3600_000, meta.createdMs);
  const notBeforeTrimHorizon = (timeMs: number | undefined) => Math.max(timeMs ?? trimHorizon, trimHorizon);
  const openAt = (timeMs: number) => (shard: ShardView) => shard.meta.createdMs <= timeMs && (shard.meta.closedMs === undefined || shard.meta.closedMs >= timeMs);
  switch (selection.type) {
    case 'AFTER_SHARD_ID': {
      const after = selection.shardId!;
      return shards.filter((shard) => shard.shardId > after);
    }
    case 'AT_TRIM_HORIZON':
      return shards.filter(openAt(trimHorizon));
    case 'FROM_TRIM_HORIZON':
      return shards;
    case 'AT_LATEST':
      return shards.filter((shard) => shard.meta.closedMs === undefined);
    case 'AT_TIMESTAMP':
      return shards.filter(openAt(notBeforeTrimHorizon(selection.timestampMs)));
    case 'FROM_TIMESTAMP': {
      const from = notBeforeTrimHorizon(selection.timestampMs);
      return shards.filter((shard) => shard.meta.closedMs === undefined || shard.meta.closedMs >= from);
    }
  }
}
