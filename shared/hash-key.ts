import { hash } from 'node:crypto';

/** Kinesis hash keys are unsigned 128-bit integers: [0, 2^128 − 1]. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/**
 * The hash key Kinesis derives from a partition key: MD5 of its UTF-8 bytes, big-endian. The
 * key may be given as those bytes (a view of a request body: no string is made for it).
 */
export function partitionKeyHash(partitionKey: string | Uint8Array): bigint {
  // crypto.hash is the one-shot form: a third of createHash's cost, per record on the put path.
  return BigInt('0x' + hash('md5', partitionKey, 'hex'));
}

export interface HashKeyRange {
  start: bigint;
  end: bigint; // inclusive
}

/** `count` contiguous ranges covering [start, end], the last one taking the remainder. */
export function uniformRanges(count: number, start = 0n, end = MAX_HASH_KEY): HashKeyRange[] {
  const width = (end - start + 1n) / BigInt(count);
  const ranges: HashKeyRange[] = [];
  for (let i = 0; i < count; i++) {
    const rangeStart = start + width * BigInt(i);
    ranges.push({ start: rangeStart, end: i === count - 1 ? end : rangeStart + width - 1n });
  }
  return ranges;
}
