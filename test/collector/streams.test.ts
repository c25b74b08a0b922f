import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { isAwsError } from '../../shared/errors.js';
import { partitionKeyHash } from '../../shared/hash-key.js';
import { StreamStore, type StoreOptions } from '../../collector/store/streams.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('StreamStore data plane', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let clock: ManualClock;
  let store: StreamStore;
  const options = (overrides: Partial<StoreOptions> = {}): StoreOptions => ({
    dataDir: dir.path,
    clock,
    region: 'us-east-1',
    accountId: '000000000000',
    shardLimits: { enabled: false },
    statusDelayMs: 0,
    shardLimit: 100,
    onDemandStreamCountLimit: 5,
    log: () => undefined,
    ...overrides,
  });

  async function untilActive(name: string) {
    await store.settled({ streamName: name });
    expect(store.describe({ streamName: name }).status).toBe('ACTIVE');
  }

  async function readAll(name: string, shardId: string) {
    let iterator: string | undefined = await store.getShardIterator({ streamName: name }, shardId, 'TRIM_HORIZON');
    const records = [];
    for (let calls = 0; iterator && calls < 1000; calls++) {
      const result = await store.getRecords(iterator, 10_000);
      records.push(...result.records);
      if (result.records.length === 0 && result.nextIterator) break;
      iterator = result.nextIterator;
    }
    return records;
  }

  beforeEach(async () => {
    dir = await makeTempDir();
    clock = new ManualClock();
    store = await StreamStore.open(options());
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('routes by MD5 of the partition key to the shard whose range holds it', async () => {
    await store.createStream({ name: 's', shardCount: 3, mode: 'PROVISIONED' });
    await untilActive('s');
    const shards = store.shardViews({ streamName: 's' });
    const keys = [...Array(50).keys()].map((i) => `pk-${i}`);
    const results = await store.putRecords({ streamName: 's' }, keys.map((k) => ({ partitionKey: k, data: Buffer.from(k) })));
    results.forEach((result, i) => {
      const hash = partitionKeyHash(keys[i]!);
      const expected = shards.find((s) => BigInt(s.meta.startingHashKey) <= hash && hash <= BigInt(s.meta.endingHashKey))!;
      expect(result).toMatchObject({ shardId: expected.shardId });
    });
  });

  it('loses nothing when a split and a merge happen under concurrent puts', async () => {
    await store.createStream({ name: 's', shardCount: 2, mode: 'PROVISIONED' });
    await untilActive('s');
    const acked: Array<{ key: string; shardId: string; sequenceNumber: string }> = [];
    let stop = false;
    const writers = [...Array(4).keys()].map(async (w) => {
      for (let n = 0; !stop; n++) {
        const keys = [...Array(20).keys()].map((i) => `w${w}-${n}-${i}`);
        const results = await store.putRecords({ streamName: 's' }, keys.map((k) => ({ partitionKey: k, data: Buffer.from(k) })));
        results.forEach((r, i) => {
          if ('sequenceNumber' in r) acked.push({ key: keys[i]!, shardId: r.shardId, sequenceNumber: r.sequenceNumber });
        });
        await tick();
      }
    });
    const writing = Promise.all(writers);
    try {
      while (acked.length < 500) await tick();
      await store.splitShard({ streamName: 's' }, 'shardId-000000000000', (1n << 126n).toString());
      await untilActive('s');
      while (acked.length < 1500) await tick();
      await store.mergeShards({ streamName: 's' }, 'shardId-000000000002', 'shardId-000000000003');
      await untilActive('s');
      while (acked.length < 2500) await tick();
    } finally {
      stop = true;
      await writing;
    }

    const shards = store.shardViews({ streamName: 's' });
    expect(shards.map((s) => [s.shardId, s.parentShardId, s.adjacentParentShardId, s.endingSequenceNumber !== undefined])).toEqual([
      ['shardId-000000000000', undefined, undefined, true],
      ['shardId-000000000001', undefined, undefined, false],
      ['shardId-000000000002', 'shardId-000000000000', undefined, true],
      ['shardId-000000000003', 'shardId-000000000000', undefined, true],
      ['shardId-000000000004', 'shardId-000000000002', 'shardId-000000000003', false],
    ]);
    const seen = new Map<string, string>();
    for (const shard of shards) {
      const records = await readAll('s', shard.shardId);
      const sequence = records.map((r) => BigInt(r.sequenceNumber));
      expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
      for (const r of records) {
        expect(seen.has(r.partitionKey)).toBe(false);
        seen.set(r.partitionKey, `${shard.shardId}/${r.sequenceNumber}`);
      }
    }
    for (const a of acked) expect(seen.get(a.key)).toBe(`${a.shardId}/${a.sequenceNumber}`);
  });

  it('reports ChildShards and no next iterator at the end of a closed shard', async () => {
    await store.createStream({ name: 's', shardCount: 1, mode: 'PROVISIONED' });
    await untilActive('s');
    await store.putRecords({ streamName: 's' }, [{ partitionKey: 'a', data: Buffer.from('1') }]);
    await store.splitShard({ streamName: 's' }, 'shardId-000000000000', (1n << 127n).toString());
    await untilActive('s');
    const iterator = await store.getShardIterator({ streamName: 's' }, 'shardId-000000000000', 'TRIM_HORIZON');
    const result = await store.getRecords(iterator, 100);
    expect(result.records.map((r) => r.data.toString())).toEqual(['1']);
    expect(result.nextIterator).toBeUndefined();
    expect(result.childShards?.map((c) => c.shardId)).toEqual(['shardId-000000000001', 'shardId-000000000002']);
  });

  it('serves nothing past retention and never reuses sequence numbers after expiry and restart', async () => {
    await store.createStream({ name: 's', shardCount: 1, mode: 'PROVISIONED' });
    await untilActive('s');
    const first = await store.putRecords({ streamName: 's' }, [{ partitionKey: 'a', data: Buffer.from('old') }]);
    clock.advance(25 * 3600_000); // past the 24 h default retention
    const second = await store.putRecords({ streamName: 's' }, [{ partitionKey: 'a', data: Buffer.from('new') }]);
    expect((await readAll('s', 'shardId-000000000000')).map((r) => r.data.toString())).toEqual(['new']);
    clock.advance(25 * 3600_000);
    await store.runMaintenance();
    expect(await readAll('s', 'shardId-000000000000')).toEqual([]);
    await store.close();
    store = await StreamStore.open(options());
    const third = await store.putRecords({ streamName: 's' }, [{ partitionKey: 'a', data: Buffer.from('newest') }]);
    const seqs = [first, second, third].map((r) => BigInt((r[0] as { sequenceNumber: string }).sequenceNumber));
    expect(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!).toBe(true);
  });

  it('refuses writes past the shard limits per entry and splits hot ON_DEMAND shards', async () => {
    await store.close();
    store = await StreamStore.open(options({ shardLimits: { enabled: true, multiplier: 1 } }));
    await store.createStream({ name: 'od', mode: 'ON_DEMAND' });
    await untilActive('od');
    // Kinesis: 1,000 records/s per shard. All to one shard in one instant.
    const results = await store.putRecords({ streamName: 'od' }, [...Array(1200).keys()].map(() => ({ partitionKey: 'same', data: Buffer.from('x') })));
    const refused = results.filter((r) => 'errorCode' in r);
    expect(refused.length).toBe(200);
    expect(refused[0]).toMatchObject({ errorCode: 'ProvisionedThroughputExceededException' });
    expect(store.shardViews({ streamName: 'od' }).length).toBe(4);
    await store.runMaintenance();
    await untilActive('od');
    expect(store.shardViews({ streamName: 'od' }).length).toBe(6);
  });

  it('applies an accepted reshard after a restart that interrupted UPDATING', async () => {
    await store.close();
    store = await StreamStore.open(options({ statusDelayMs: 3_600_000 }));
    await store.createStream({ name: 's', shardCount: 1, mode: 'PROVISIONED' });
    await store.close();
    store = await StreamStore.open(options({ statusDelayMs: 3_600_000 })); // CREATING completes on open
    await store.splitShard({ streamName: 's' }, 'shardId-000000000000', (1n << 127n).toString());
    expect(store.describe({ streamName: 's' }).status).toBe('UPDATING');
    await store.close();
    store = await StreamStore.open(options());
    expect(store.describe({ streamName: 's' }).status).toBe('ACTIVE');
    const shards = store.shardViews({ streamName: 's' });
    expect(shards.map((s) => [s.shardId, s.parentShardId, s.endingSequenceNumber !== undefined])).toEqual([
      ['shardId-000000000000', undefined, true],
      ['shardId-000000000001', 'shardId-000000000000', false],
      ['shardId-000000000002', 'shardId-000000000000', false],
    ]);
  });

  it('rejects forged and expired iterators with the AWS error codes', async () => {
    await store.createStream({ name: 's', shardCount: 1, mode: 'PROVISIONED' });
    await untilActive('s');
    const iterator = await store.getShardIterator({ streamName: 's' }, 'shardId-000000000000', 'LATEST');
    const forged = Buffer.from(iterator, 'base64');
    forged[forged.length - 1]! ^= 1;
    await expect(store.getRecords(forged.toString('base64'), 10)).rejects.toSatisfy((e) => isAwsError(e, 'InvalidArgumentException'));
    clock.advance(5 * 60_000 + 1);
    await expect(store.getRecords(iterator, 10)).rejects.toSatisfy((e) => isAwsError(e, 'ExpiredIteratorException'));
  });
});
