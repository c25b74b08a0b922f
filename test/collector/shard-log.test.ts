import { constants as fsConstants, readFileSync, readlinkSync } from 'node:fs';
import { open, readdir, stat, truncate, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { ShardLog, ShardLogClosedError } from '../../collector/store/shard-log.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const record = (i: number) => ({ partitionKey: `key-${i}`, data: Buffer.from(`payload-${i}-${'x'.repeat(i % 50)}`) });

describe('ShardLog', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let clock: ManualClock;
  const options = () => ({ segmentMaxBytes: 4096, segmentMaxAgeMs: 3_600_000, now: () => clock.now() });

  beforeEach(async () => {
    dir = await makeTempDir();
    clock = new ManualClock();
  });
  afterEach(async () => dir.remove());

  it('assigns consecutive ordinals and reads back what it appended, across segments and a reopen', async () => {
    const log = await ShardLog.open(dir.path, options());
    const firsts = await Promise.all([log.append([record(0), record(1)], false), log.append([record(2)], false)]);
    expect(firsts).toEqual([0, 2]);
    for (let i = 3; i < 300; i++) {
      clock.advance(1);
      await log.append([record(i)], false);
    }
    const segments = (await readdir(dir.path)).filter((n) => n.endsWith('.log'));
    expect(segments.length).toBeGreaterThan(3); // 4 KiB segments force rolls
    const all = await log.read(0, 10_000, 10 * 1024 * 1024);
    expect(all.map((r) => r.ordinal)).toEqual([...Array(300).keys()]);
    expect(all.map((r) => r.data.toString())).toEqual([...Array(300).keys()].map((i) => record(i).data.toString()));
    await log.close();

    const reopened = await ShardLog.open(dir.path, options());
    expect(reopened.committedOrdinal).toBe(300);
    const middle = await reopened.read(150, 5, 1 << 20);
    expect(middle.map((r) => r.partitionKey)).toEqual(['key-150', 'key-151', 'key-152', 'key-153', 'key-154']);
    expect(await reopened.append([record(300)], false)).toBe(300);
    await reopened.close();
  });

  /** The FileHandle prototype, whose writev the log's durable writes go through. */
  async function fileHandlePrototype(): Promise<{ writev: (...args: unknown[]) => Promise<unknown> }> {
    const handle = await open(join(dir.path, '00000000000000000000.log'), 'r');
    await handle.close();
    return Object.getPrototypeOf(handle) as { writev: (...args: unknown[]) => Promise<unknown> };
  }

  it('writes the active segment through a descriptor opened with O_DSYNC (each write durable on return)', async () => {
    const log = await ShardLog.open(dir.path, options());
    await log.append([record(0)], false); // opens the active file
    const segment = join(dir.path, '00000000000000000000.log');
    // proc(5): /proc/self/fdinfo/<fd> gives the open flags in octal.
    const fds = (await readdir('/proc/self/fd')).filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === segment;
      } catch {
        return false; // closed meanwhile
      }
    });
    expect(fds.length).toBe(1);
    const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fds[0]}`, 'utf8'))![1]!, 8);
    expect(flags & fsConstants.O_DSYNC).toBe(fsConstants.O_DSYNC);
    await log.close();
  });

  it('does not resolve an append before the durable write that covers it', async () => {
    const log = await ShardLog.open(dir.path, options());
    await log.append([record(0)], false); // opens the active file
    const proto = await fileHandlePrototype();
    const realWritev = proto.writev;
    let releaseWrite!: () => void;
    let writesStarted = 0;
    proto.writev = function (this: unknown, ...args: unknown[]) {
      writesStarted++;
      return new Promise<void>((resolve) => (releaseWrite = resolve)).then(() => realWritev.apply(this, args));
    };
    try {
      let acknowledged = false;
      const pending = log.append([record(1)], false).then(() => (acknowledged = true));
      while (writesStarted === 0) await new Promise((r) => setImmediate(r));
      // The write has not returned (so it is not known durable): no acknowledgement, nothing readable.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(acknowledged).toBe(false);
      expect(log.committedOrdinal).toBe(1);
      expect((await log.read(1, 10, 1 << 20)).length).toBe(0);
      releaseWrite();
      await pending;
      expect(acknowledged).toBe(true);
      expect((await log.read(1, 10, 1 << 20)).length).toBe(1);
    } finally {
      proto.writev = realWritev;
    }
    await log.close();
  });

  it('groups concurrent appends into few durable writes', async () => {
    const log = await ShardLog.open(dir.path, { ...options(), segmentMaxBytes: 64 << 20 });
    await log.append([record(0)], false);
    const proto = await fileHandlePrototype();
    const realWritev = proto.writev;
    let writes = 0;
    proto.writev = function (this: unknown, ...args: unknown[]) {
      writes++;
      return realWritev.apply(this, args);
    };
    try {
      await Promise.all([...Array(100).keys()].map((i) => log.append([record(i)], false)));
    } finally {
      proto.writev = realWritev;
    }
    // At least one: the 100 appends were written through the patched writev.
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(3);
    expect(log.committedOrdinal).toBe(101);
    await log.close();
  });

  it('cuts a torn tail at every possible tear point and keeps every whole frame', async () => {
    const log = await ShardLog.open(dir.path, { ...options(), segmentMaxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) await log.append([record(i)], false);
    await log.close();
    const path = join(dir.path, '00000000000000000000.log');
    const whole = (await stat(path)).size;
    const frameEnds: number[] = [];
    {
      // Learn the frame boundaries by reopening after each tear length.
      const reopened = await ShardLog.open(dir.path, options());
      const records = await reopened.read(0, 10, 1 << 20);
      await reopened.close();
      let offset = 0;
      for (const r of records) {
        offset += 8 + 11 + Buffer.byteLength(r.partitionKey) + r.data.length;
        frameEnds.push(offset);
      }
      expect(offset).toBe(whole);
    }
    const original = await (await import('node:fs/promises')).readFile(path);
    for (let cut = whole - 1; cut > 0; cut -= 7) {
      await (await import('node:fs/promises')).writeFile(path, original);
      await truncate(path, cut);
      // And garbage after the tear, as a power cut may leave.
      await appendFile(path, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
      const reopened = await ShardLog.open(dir.path, options());
      const expected = frameEnds.filter((end) => end <= cut).length;
      expect(reopened.committedOrdinal).toBe(expected);
      expect((await reopened.read(0, 10, 1 << 20)).length).toBe(expected);
      expect((await stat(path)).size).toBe(frameEnds[expected - 1] ?? 0);
      await reopened.close();
    }
  });

  it('finds records by arrival time and deletes whole expired segments without reusing ordinals', async () => {
    const log = await ShardLog.open(dir.path, { ...options(), segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 60_000 });
    const start = clock.now();
    for (let i = 0; i < 10; i++) {
      await log.append([record(i)], false);
      clock.advance(30_000); // a segment rolls every two records
    }
    expect(await log.ordinalAtTime(start)).toBe(0);
    expect(await log.ordinalAtTime(start + 95_000)).toBe(4);
    expect(await log.ordinalAtTime(clock.now() + 1)).toBe(10);

    await log.deleteOlderThan(start + 100_000);
    expect(log.firstOrdinal).toBeGreaterThan(0);
    const left = await log.read(0, 100, 1 << 20);
    expect(left[0]!.arrivalMs).toBeGreaterThanOrEqual(start + 60_000);
    expect(left.at(-1)!.ordinal).toBe(9);

    await log.deleteOlderThan(clock.now() + 1); // everything expires
    expect(await log.read(0, 100, 1 << 20)).toEqual([]);
    await log.close();
    const reopened = await ShardLog.open(dir.path, options());
    expect(await reopened.append([record(10)], false)).toBe(10);
    await reopened.close();
  });

  it('refuses appends once sealed, after finishing the ones in flight', async () => {
    const log = await ShardLog.open(dir.path, options());
    const inFlight = log.append([record(0)], false);
    log.sealForAppends();
    await expect(log.append([record(1)], false)).rejects.toBeInstanceOf(ShardLogClosedError);
    expect(await inFlight).toBe(0);
    await log.close();
  });
});
