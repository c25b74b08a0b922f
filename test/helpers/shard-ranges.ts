/**
 * An independent oracle for Kinesis routing, computed here rather than imported from the code
 * under test: a record goes to the open shard whose hash key range holds MD5(partition key) read
 * as an unsigned 128-bit big-endian integer, or holds its ExplicitHashKey.
 */
import { createHash } from 'node:crypto';
import type { Shard } from '@aws-sdk/client-kinesis';

export const HIGHEST_HASH_KEY = (1n << 128n) - 1n;

export function md5HashKey(partitionKey: string): bigint {
  return BigInt('0x' + createHash('md5').update(partitionKey, 'utf8').digest('hex'));
}

export function isOpen(shard: Shard): boolean {
  return shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
}

export function hashRangeOf(shard: Shard): { start: bigint; end: bigint } {
  return { start: BigInt(shard.HashKeyRange!.StartingHashKey!), end: BigInt(shard.HashKeyRange!.EndingHashKey!) };
}

/** The one open shard whose range holds `hashKey`; throws if none or several do. */
export function openShardFor(shards: readonly Shard[], hashKey: bigint): Shard {
  const holders = shards.filter((s) => isOpen(s) && hashRangeOf(s).start <= hashKey && hashKey <= hashRangeOf(s).end);
  if (holders.length !== 1) throw new Error(`${holders.length} open shards hold hash key ${hashKey}`);
  return holders[0]!;
}

/** Problems with how the open shards tile [0, 2^128 − 1]: gaps, overlaps, bad ends. Empty when they tile it exactly. */
export function tilingProblems(shards: readonly Shard[]): string[] {
  const ranges = shards
    .filter(isOpen)
    .map((s) => ({ id: s.ShardId, ...hashRangeOf(s) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const problems: string[] = [];
  let expectedStart = 0n;
  for (const range of ranges) {
    if (range.start !== expectedStart) problems.push(`${range.id} starts at ${range.start}, expected ${expectedStart}`);
    if (range.end < range.start) problems.push(`${range.id} ends before it starts`);
    expectedStart = range.end + 1n;
  }
  if (expectedStart !== HIGHEST_HASH_KEY + 1n) problems.push(`the open shards end at ${expectedStart - 1n}, expected ${HIGHEST_HASH_KEY}`);
  return problems;
}
