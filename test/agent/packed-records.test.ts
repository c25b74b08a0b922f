/**
 * Packed batches: records go in and come out byte for byte, with their keys, whatever their
 * sizes (growth past the first buffer, empty records, one record larger than it), and the
 * subsets the pipeline makes for retries keep order and keys.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PackedRecords, RecordPacker } from '../../agent/buffer/packed-records.js';

function randomRecords(count: number): Array<{ data: Buffer; partitionKey: string; explicitHashKey?: string }> {
  return Array.from({ length: count }, (_, i) => ({
    data: randomBytes(i % 17 === 0 ? 0 : Math.floor(Math.random() * 3000)),
    partitionKey: `key-${i}`,
    ...(i % 5 === 0 ? { explicitHashKey: String(BigInt(i) * 2n ** 100n) } : {}),
  }));
}

describe('packed records', () => {
  it('give back every record byte for byte with its keys, past any number of buffer doublings', () => {
    const records = [...randomRecords(700), { data: randomBytes(200_000), partitionKey: 'large' }];
    const packed = PackedRecords.from(records);
    expect(packed.length).toBe(records.length);
    expect(packed.toArray()).toEqual(records.map((r) => ({ ...r })));
    expect(records.map((_, i) => packed.dataLength(i))).toEqual(records.map((r) => r.data.length));
    // Packed back to back: the last record ends where the data ends.
    expect(packed.end(records.length - 1)).toBe(records.reduce((sum, r) => sum + r.data.length, 0));
  });

  it('copy the data: later changes to the source buffer do not reach the batch', () => {
    const chunk = Buffer.from('line one\nline two\n');
    const packer = new RecordPacker(4, 1); // tiny buffers: both grow
    packer.add(chunk.subarray(0, 9), 'a');
    packer.add(chunk.subarray(9), undefined);
    const packed = packer.finish();
    chunk.fill(0x58);
    expect(packed.toArray()).toEqual([
      { data: Buffer.from('line one\n'), partitionKey: 'a' },
      { data: Buffer.from('line two\n'), partitionKey: undefined },
    ]);
    expect(packed.bytes.length).toBe(18); // the unused room of the grown buffer was given back
  });

  it('select: the chosen records in the given order, keys and explicit hash keys with them', () => {
    const records = randomRecords(50);
    const packed = PackedRecords.from(records);
    const chosen = [45, 3, 0, 10, 49];
    expect(packed.select(chosen).toArray()).toEqual(chosen.map((i) => ({ ...records[i]! })));
    expect(packed.select([]).length).toBe(0);
  });

  it('withPartitionKeys: fills in only the missing keys, and is the same batch when none is missing', () => {
    const packed = PackedRecords.from([{ data: Buffer.from('a') }, { data: Buffer.from('b'), partitionKey: 'kept' }]);
    const keyed = packed.withPartitionKeys((data) => `made-${data.toString()}`);
    expect(keyed.toArray().map((r) => r.partitionKey)).toEqual(['made-a', 'kept']);
    expect(keyed.withPartitionKeys(() => 'never')).toBe(keyed);
  });
});
