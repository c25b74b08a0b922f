import { hash } from 'node:crypto';

/** Kinesis hash keys are unsigned 128-bit integers: [0, 2^128 − 1]. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/**
 * The hash key Kinesis derives from a partition key: MD5 of its UTF-8 bytes, big-endian. The
 * key may be given as those bytes (a view of a request body: no string is made for it).
 */
export function partitionKeyHash(partitionKey: string | Uint8Array): bigint {
  return BigInt('0x' + partitionKeyHashHex(partitionKey));
}

/** Digits of a hash key in `hashKeyHex` form: 128 bits in hex. */
const HASH_KEY_HEX_DIGITS = 32;

/**
 * The hash key of a partition key as 32 lower-case hex digits. Strings of equal length compare
 * as their values do, so routing compares these directly: no BigInt per record, whose parsing
 * cost as much as the MD5 (0.2 µs of 0.5 µs here).
 */
export function partitionKeyHashHex(partitionKey: string | Uint8Array): string {
  // crypto.hash is the one-shot form: a third of createHash's cost, per record on the put path.
  return hash('md5', partitionKey, 'hex');
}

/** A hash key (0 ≤ value < 2^128) as 32 lower-case hex digits, ordered as `partitionKeyHashHex`'s. */
export function hashKeyHex(value: bigint): string {
  return value.toString(16).padStart(HASH_KEY_HEX_DIGITS, '0');
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
