/**
 * Hash keys in the hex form routing compares: the same order as the values, the MD5 Kinesis
 * takes (node's crypto as the independent reference), and bytes and strings of a key agreeing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashKeyHex, MAX_HASH_KEY, partitionKeyHash, partitionKeyHashHex } from '../../shared/hash-key.js';

function randomHashKey(): bigint {
  // Mostly full-width values, some small ones and the ends of the range.
  const bytes = randomBytes(16);
  const value = BigInt(`0x${bytes.toString('hex')}`);
  return [value, value >> BigInt(bytes[0]! % 128), 0n, MAX_HASH_KEY][bytes[1]! % 4]!;
}

describe('hash keys', () => {
  it('hex forms order as the values do', () => {
    for (let round = 0; round < 2000; round++) {
      const [a, b] = [randomHashKey(), randomHashKey()];
      expect(hashKeyHex(a) < hashKeyHex(b)).toBe(a < b);
      expect(hashKeyHex(a) === hashKeyHex(b)).toBe(a === b);
      expect(BigInt(`0x${hashKeyHex(a)}`)).toBe(a);
    }
  });

  it('is the MD5 of the UTF-8 key, from a string or its bytes', () => {
    for (const key of ['a', 'partition-key-1', 'schlüssel-✓-𝄞', 'k'.repeat(256)]) {
      const md5 = createHash('md5').update(Buffer.from(key, 'utf8')).digest('hex');
      expect(partitionKeyHashHex(key)).toBe(md5);
      expect(partitionKeyHashHex(Buffer.from(key, 'utf8'))).toBe(md5);
      expect(hashKeyHex(partitionKeyHash(key))).toBe(md5);
    }
  });
});
