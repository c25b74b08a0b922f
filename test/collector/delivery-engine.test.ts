/**
 * The delivery engine driven by hand with a ManualClock: buffering by size and by time (no
 * sleeps), the durable checkpoint across a reopen, and retries. The destination is the real
 * ExtendedS3 destination writing a real local folder; where a failure is needed, its object
 * store is wrapped to fail on purpose (a disk cannot be made to fail on cue here).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { Backoff } from '../../shared/backoff.js';
import { DeliveryEngine } from '../../collector/delivery/delivery-stream.js';
import { ExtendedS3Destination, extendedS3Destination } from '../../collector/delivery/destinations/extended-s3.js';
import { DeliveryMetadataStore } from '../../collector/delivery/metadata.js';
import { LocalFolderObjectStore, type ObjectStore } from '../../collector/delivery/object-store.js';
import { defaultShardLogOptions, ShardLog } from '../../collector/store/shard-log.js';
import { listLocalObjects } from '../helpers/firehose.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };
let clock: ManualClock;
let log: ShardLog;
let metadata: DeliveryMetadataStore;
const KiB = 1024;

beforeEach(async () => {
  dir = await makeTempDir('riffle-delivery-engine-');
  clock = new ManualClock(Date.UTC(2026, 4, 17, 23, 59, 30));
  log = await ShardLog.open(join(dir.path, 'buffer'), { ...defaultShardLogOptions, now: () => clock.now() });
  metadata = await DeliveryMetadataStore.open(join(dir.path, 'meta'));
});

afterEach(async () => {
  await log.close();
  await metadata.close();
  await dir.remove();
});

function destination(hints: { SizeInMBs: number; IntervalInSeconds: number }, store: ObjectStore = new LocalFolderObjectStore(join(dir.path, 's3'))): ExtendedS3Destination {
  const config = extendedS3Destination.normalize({ BucketARN: 'arn:aws:s3:::bucket', RoleARN: 'arn:aws:iam::000000000000:role/r', BufferingHints: hints });
  return extendedS3Destination.create(config, { streamName: 'engine', deliveryStreamArn: processing.deliveryStreamArn, versionId: 1, clock, schemaDir: join(dir.path, 'glue'), objectStoreFor: () => ({ store, bucket: 'bucket' }) }) as ExtendedS3Destination;
}

function openEngine(target: ExtendedS3Destination, extra: Partial<Parameters<typeof DeliveryEngine.open>[0]> = {}): Promise<DeliveryEngine> {
  return DeliveryEngine.open({ name: 'engine', log, metadata, clock, logger: () => {}, destination: () => target, sleep: async () => {}, processing, ...extra });
}

const processing = { deliveryStreamArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/engine', region: 'us-east-1', functionsDir: '/nonexistent' };

const append = (sizes: number[]) => log.append(sizes.map((size, i) => ({ partitionKey: '', data: Buffer.alloc(size, 97 + i) })), false);

describe('buffering', () => {
  it('flushes at SizeInMBs, taking the oldest records up to the size', async () => {
    const engine = await openEngine(destination({ SizeInMBs: 1, IntervalInSeconds: 60 }));
    await append([400 * KiB, 400 * KiB, 400 * KiB]);
    expect(await engine.step()).toEqual({ delivered: 2 });
    const objects = await listLocalObjects(dir.path, 'bucket');
    expect(objects).toHaveLength(1);
    expect(objects[0]!.body.length).toBe(800 * KiB);
    // The rest is below the size: it waits for the interval.
    expect(await engine.step()).toEqual({ idleUntilMs: clock.now() + 60_000 });
  });

  it('flushes at IntervalInSeconds after the oldest record arrived, by the injected clock', async () => {
    const engine = await openEngine(destination({ SizeInMBs: 5, IntervalInSeconds: 60 }));
    await append([10]);
    clock.advance(30_000);
    await append([10]);
    clock.advance(29_999);
    expect(await engine.step()).toEqual({ idleUntilMs: clock.now() + 1 });
    clock.advance(1);
    expect(await engine.step()).toEqual({ delivered: 2 });
    // The object is named by its oldest record's arrival time, across midnight UTC.
    const [object] = await listLocalObjects(dir.path, 'bucket');
    expect(object!.key).toMatch(/^2026\/05\/17\/23\/engine-1-2026-05-17-23-59-30-[0-9a-f-]{36}$/);
    expect(await engine.step()).toEqual({ idleUntilMs: undefined });
  });

  it('delivers at once with a 0 s interval', async () => {
    const engine = await openEngine(destination({ SizeInMBs: 1, IntervalInSeconds: 0 }));
    await append([5]);
    expect(await engine.step()).toEqual({ delivered: 1 });
  });
});

describe('checkpoint', () => {
  it('survives a reopen: delivered records are not delivered again, undelivered ones are', async () => {
    const target = destination({ SizeInMBs: 1, IntervalInSeconds: 0 });
    const first = await openEngine(target);
    await append([1]);
    expect(await first.step()).toEqual({ delivered: 1 });
    await append([2]);
    const reopened = await openEngine(target);
    expect(reopened.deliveredOrdinal).toBe(1);
    expect(await reopened.step()).toEqual({ delivered: 1 });
    expect((await listLocalObjects(dir.path, 'bucket')).map((object) => object.body.length).sort()).toEqual([1, 2]);
  });

  it('retries a failing destination with backoff and moves the checkpoint only after success', async () => {
    let failuresLeft = 3;
    const local = new LocalFolderObjectStore(join(dir.path, 's3'));
    const flaky: ObjectStore = {
      putObject: (bucket, key, body) => (failuresLeft-- > 0 ? Promise.reject(new Error('disk full')) : local.putObject(bucket, key, body)),
    };
    const waits: number[] = [];
    const engine = await openEngine(destination({ SizeInMBs: 1, IntervalInSeconds: 0 }, flaky), {
      sleep: async (ms) => void waits.push(ms),
      backoff: new Backoff({ retryInitialBackoffMillis: 100, retryMaxBackoffMillis: 10_000, random: () => 0.999 }),
    });
    await append([7]);
    expect(await engine.step()).toEqual({ delivered: 1 });
    expect(waits).toEqual([100, 200, 400]);
    expect((await metadata.loadCheckpoint('engine')).bufferOrdinal).toBe(1);
  });

  it('keeps a batch whose step failed after delivery and delivers it again (at least once, nothing lost)', async () => {
    let checkpointFailures = 1;
    // The checkpoint write fails once, as a full disk would make it.
    const failingOnce = Object.create(metadata, {
      saveCheckpoint: { value: (name: string, checkpoint: { bufferOrdinal: number }) => (checkpointFailures-- > 0 ? Promise.reject(new Error('disk full')) : metadata.saveCheckpoint(name, checkpoint)) },
    }) as DeliveryMetadataStore;
    const engine = await openEngine(destination({ SizeInMBs: 1, IntervalInSeconds: 0 }), { metadata: failingOnce });
    await append([3]);
    await expect(engine.step()).rejects.toThrow('disk full');
    expect(await engine.step()).toEqual({ delivered: 1 });
    expect((await listLocalObjects(dir.path, 'bucket')).map((object) => object.body.length)).toEqual([3, 3]);
    expect(await engine.step()).toEqual({ idleUntilMs: undefined });
  });
});
