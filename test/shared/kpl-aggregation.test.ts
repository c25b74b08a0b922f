import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { aggregate, aggregatedSize, Aggregator, deaggregate, KINESIS_MAX_RECORD_BYTES, KPL_MAGIC, type UserRecord } from '../../shared/kpl-aggregation.js';

// aws-kinesis-agg (awslabs/kinesis-aggregation) is an independent implementation built on
// protobufjs: what it writes we must read, and what we write it must read.
interface TheirUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  data: string; // base64
}
interface TheirAggregator {
  addUserRecord(record: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
  build(): { partitionKey: string; data: Buffer };
}
interface AwsKinesisAgg {
  deaggregateSync(record: { partitionKey: string; sequenceNumber: string; data: string }, computeChecksums: boolean, done: (error: Error | null, records?: TheirUserRecord[]) => void): void;
  RecordAggregator: new () => TheirAggregator;
}
interface TheirProtobufType {
  encode(message: object): { finish(): Uint8Array };
}
const require = createRequire(import.meta.url);
const awsKinesisAgg = require('aws-kinesis-agg') as AwsKinesisAgg;
const theirAggregatedRecordType = (require('aws-kinesis-agg/lib/common.js') as { AggregatedRecord: TheirProtobufType }).AggregatedRecord;

function theirDeaggregate(data: Buffer): UserRecord[] {
  let result: UserRecord[] | undefined;
  awsKinesisAgg.deaggregateSync({ partitionKey: 'outer', sequenceNumber: '1', data: data.toString('base64') }, true, (error, records) => {
    if (error) throw error;
    result = (records ?? []).map((record) => ({
      partitionKey: record.partitionKey,
      ...(record.explicitPartitionKey !== undefined ? { explicitHashKey: record.explicitPartitionKey } : {}),
      data: Buffer.from(record.data, 'base64'),
    }));
  });
  if (!result) throw new Error('aws-kinesis-agg did not call back');
  return result;
}

function theirAggregate(records: readonly UserRecord[]): Buffer {
  const aggregator = new awsKinesisAgg.RecordAggregator();
  for (const record of records) aggregator.addUserRecord({ ...record });
  return aggregator.build().data;
}

/** The records with their shapes normalised for comparison (Buffer subclasses vs Buffer). */
function plain(records: readonly UserRecord[] | undefined) {
  return records?.map((record) => ({ ...record, data: Buffer.from(record.data).toString('hex') }));
}

function readings(count: number, keys: readonly string[], explicitHashKeys?: readonly string[]): UserRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    partitionKey: keys[i % keys.length] as string,
    ...(explicitHashKeys ? { explicitHashKey: explicitHashKeys[i % explicitHashKeys.length] as string } : {}),
    data: Buffer.from(JSON.stringify({ sensor: i % 7, celsius: 20 + (i % 13) / 10, seq: i })),
  }));
}

const hashKeyOf = (key: string) => BigInt('0x' + createHash('md5').update(key).digest('hex')).toString();

const cases: Array<{ name: string; records: UserRecord[] }> = [
  { name: 'one record', records: readings(1, ['device-1']) },
  { name: 'many records under one key', records: readings(50, ['device-1']) },
  { name: 'many keys', records: readings(50, ['a', 'b', 'c', 'd', 'e']) },
  { name: 'empty data', records: [{ partitionKey: 'k', data: Buffer.alloc(0) }, ...readings(3, ['k']), { partitionKey: 'k2', data: Buffer.alloc(0) }] },
  { name: 'unicode partition keys', records: readings(20, ['温度/センサー', '🌡️-greenhouse', 'Ünïcödé', 'plain']) },
  { name: 'explicit hash keys on every record', records: readings(20, ['a', 'b', 'c'], [hashKeyOf('x'), hashKeyOf('y'), (2n ** 128n - 1n).toString()]) },
  { name: 'binary data', records: Array.from({ length: 30 }, (_, i) => ({ partitionKey: `p${i % 4}`, data: randomBytes(i * 37) })) },
  { name: 'large data (varint lengths of 3 bytes)', records: [{ partitionKey: 'big', data: randomBytes(300_000) }, ...readings(2, ['big'])] },
  { name: 'large counts', records: readings(10_000, Array.from({ length: 200 }, (_, i) => `sensor-${i}`)) },
];

describe('KPL aggregation', () => {
  it.each(cases)('round-trips: $name', ({ records }) => {
    expect(plain(deaggregate(aggregate(records)))).toEqual(plain(records));
  });

  it.each(cases)('aws-kinesis-agg de-aggregates what we aggregate: $name', ({ records }) => {
    expect(plain(theirDeaggregate(aggregate(records)))).toEqual(plain(records));
  });

  it.each(cases)('we de-aggregate what aws-kinesis-agg aggregates: $name', ({ records }) => {
    expect(plain(deaggregate(theirAggregate(records)))).toEqual(plain(records));
  });

  // aws-kinesis-agg builds its key tables with Object.keys(), which lists array-index-like keys
  // ("0", "17") first, so it writes wrong indexes for them; only our direction is checked here.
  it('keys that look like small integers keep their order', () => {
    const records = readings(20, ['b', '17', 'a', '3'], [hashKeyOf('x'), '0', '4294967294']);
    expect(plain(deaggregate(aggregate(records)))).toEqual(plain(records));
    expect(plain(theirDeaggregate(aggregate(records)))).toEqual(plain(records));
  });

  it('records with and without explicit hash keys in one aggregate keep exactly their own', () => {
    const records: UserRecord[] = [
      { partitionKey: 'a', data: Buffer.from('1') },
      { partitionKey: 'b', explicitHashKey: '42', data: Buffer.from('2') },
      { partitionKey: 'a', data: Buffer.from('3') },
      { partitionKey: 'c', explicitHashKey: '42', data: Buffer.from('4') },
    ];
    expect(plain(deaggregate(aggregate(records)))).toEqual(plain(records));
  });

  it('stores each distinct key once', () => {
    const key = 'k'.repeat(200);
    const oneKey = aggregate(readings(100, [key])).length;
    const twoKeys = aggregate(readings(100, [key, key.toUpperCase()])).length;
    expect(twoKeys - oneKey).toBeLessThan(2 * key.length);
  });

  it('aggregatedSize is the encoded length, without encoding', () => {
    for (const { records } of cases) expect(aggregatedSize(records)).toBe(aggregate(records).length);
    for (let trial = 0; trial < 50; trial++) {
      const records = Array.from({ length: 1 + (trial % 9) * 17 }, (_, i) => ({
        partitionKey: `k${(i * trial) % 11}`,
        ...(i % 3 === 0 ? { explicitHashKey: String(i * 1_000_003) } : {}),
        data: Buffer.alloc((i * 131 + trial * 977) % 20_000),
      }));
      expect(aggregatedSize(records)).toBe(aggregate(records).length);
    }
  });

  it('writes the magic, and the MD5 of the protobuf as the last 16 bytes', () => {
    const data = aggregate(readings(5, ['a']));
    expect(data.subarray(0, 4)).toEqual(Buffer.from([0xf3, 0x89, 0x9a, 0xc2]));
    expect(data.subarray(-16)).toEqual(createHash('md5').update(data.subarray(4, -16)).digest());
  });

  it('an aggregate of nothing de-aggregates to nothing', () => {
    expect(deaggregate(aggregate([]))).toEqual([]);
  });

  describe('what is not an aggregated record', () => {
    const good = aggregate(readings(5, ['a', 'b']));
    const withFixedChecksum = (body: Buffer) => Buffer.concat([KPL_MAGIC, body, createHash('md5').update(body).digest()]);
    const notAggregated: Array<[string, Buffer]> = [
      ['plain data', Buffer.from('{"celsius":21.5}\n')],
      ['empty', Buffer.alloc(0)],
      ['the magic alone', KPL_MAGIC],
      ['a checksum mismatch', Buffer.concat([good.subarray(0, -1), Buffer.from([(good.at(-1) as number) ^ 1])])],
      ['a flipped data byte', Buffer.from(good.map((byte, i) => (i === 10 ? byte ^ 0x40 : byte)))],
      ['a truncated record', good.subarray(0, good.length - 5)],
      ['a valid checksum over a truncated varint', withFixedChecksum(Buffer.from([0x0a, 0xff]))],
      ['a valid checksum over a field running past the end', withFixedChecksum(Buffer.from([0x0a, 0x05, 0x61]))],
      ['a valid checksum over a record with an out-of-range key index', withFixedChecksum(Buffer.from([0x0a, 0x01, 0x61, 0x1a, 0x05, 0x08, 0x01, 0x1a, 0x01, 0x78]))],
      ['a valid checksum over a record without data', withFixedChecksum(Buffer.from([0x0a, 0x01, 0x61, 0x1a, 0x02, 0x08, 0x00]))],
      ['a valid checksum over a wrong wire type', withFixedChecksum(Buffer.from([0x08, 0x01]))],
      ['a valid checksum over random bytes', withFixedChecksum(Buffer.from('ff'.repeat(40), 'hex'))],
    ];
    it.each(notAggregated)('%s', (_name, data) => {
      expect(deaggregate(data)).toBeUndefined();
    });

    it('the hand-made malformed cases differ from a valid one only where intended', () => {
      const valid = withFixedChecksum(Buffer.from([0x0a, 0x01, 0x61, 0x1a, 0x05, 0x08, 0x00, 0x1a, 0x01, 0x78]));
      expect(plain(deaggregate(valid))).toEqual(plain([{ partitionKey: 'a', data: Buffer.from('x') }]));
    });
  });

  it('skips tags and fields it does not know', () => {
    const body = Buffer.from(
      theirAggregatedRecordType
        .encode({
          partition_key_table: ['a'],
          explicit_hash_key_table: [],
          records: [{ partition_key_index: 0, data: Buffer.from('reading'), tags: [{ key: 'unit', value: 'C' }, { key: 'raw' }] }],
        })
        .finish(),
    );
    const unknownField = Buffer.from([(9 << 3) | 0, 0x96, 0x01, (10 << 3) | 5, 1, 2, 3, 4, (11 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    const message = Buffer.concat([body, unknownField]);
    const data = Buffer.concat([KPL_MAGIC, message, createHash('md5').update(message).digest()]);
    expect(plain(deaggregate(data))).toEqual(plain([{ partitionKey: 'a', data: Buffer.from('reading') }]));
  });
});

describe('Aggregator', () => {
  it('fills up to the Kinesis record limit and says when the next record would not fit', () => {
    const aggregator = new Aggregator();
    const accepted: UserRecord[] = [];
    let rejected: UserRecord | undefined;
    for (let i = 0; !rejected; i++) {
      const record = { partitionKey: i % 2 === 0 ? 'device-7' : 'device-8', data: Buffer.alloc(900 + (i % 200), i % 256) };
      if (aggregator.add(record)) accepted.push(record);
      else rejected = record;
    }
    const routingKeyBytes = Buffer.byteLength('device-7');
    expect(aggregator.recordBytes).toBe(aggregatedSize(accepted) + routingKeyBytes);
    expect(aggregator.recordBytes).toBeLessThanOrEqual(KINESIS_MAX_RECORD_BYTES);
    expect(aggregatedSize([...accepted, rejected]) + routingKeyBytes).toBeGreaterThan(KINESIS_MAX_RECORD_BYTES);

    const taken = aggregator.take();
    expect(taken).toMatchObject({ partitionKey: 'device-7', count: accepted.length });
    expect(taken.data.length).toBe(aggregatedSize(accepted));
    expect(plain(deaggregate(taken.data))).toEqual(plain(accepted));
    expect(plain(theirDeaggregate(taken.data))).toEqual(plain(accepted));
    expect(aggregator.count).toBe(0);
    expect(aggregator.add(rejected)).toBe(true);
  });

  it('counts the routing partition key in UTF-8 bytes', () => {
    const key = '🌡️'.repeat(20);
    const record = { partitionKey: key, data: Buffer.alloc(100) };
    const exact = aggregatedSize([record]) + Buffer.byteLength(key);
    expect(new Aggregator(exact).add(record)).toBe(true);
    expect(new Aggregator(exact - 1).add(record)).toBe(false);
  });

  it('rejects a record that cannot fit even alone, and stays empty', () => {
    const aggregator = new Aggregator(1000);
    expect(aggregator.add({ partitionKey: 'k', data: Buffer.alloc(1000) })).toBe(false);
    expect(aggregator.count).toBe(0);
  });

  it('routes by the first record: its partition key and explicit hash key', () => {
    const aggregator = new Aggregator();
    aggregator.add({ partitionKey: 'first', explicitHashKey: '12345', data: Buffer.from('1') });
    aggregator.add({ partitionKey: 'second', data: Buffer.from('2') });
    expect(aggregator.take()).toMatchObject({ partitionKey: 'first', explicitHashKey: '12345', count: 2 });
  });

  it('take() on an empty aggregator is a programming error', () => {
    expect(() => new Aggregator().take()).toThrow(RangeError);
  });
});
