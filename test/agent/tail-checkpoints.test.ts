/**
 * Checkpoints of the tail source: the ack window's contiguous watermark under out-of-order
 * settlement, and the checkpoint file — written only when due, atomically, kept for flows not
 * running (until their TTL), refused when it is not ours.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AckWindow } from '../../agent/sources/tail/ack-window.js';
import { CheckpointStore, tailErrorCodes, type FileCheckpoint } from '../../agent/sources/tail/index.js';
import { ManualClock } from '../../shared/clock.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('ack window', () => {
  it('commits only over a contiguous run of settled records', () => {
    const window = new AckWindow(100);
    const ends = [110, 125, 130, 160, 161];
    const sequences = ends.map((end) => window.push(end));
    expect(sequences).toEqual([0, 1, 2, 3, 4]);
    expect(window.settle(1, 3)).toBe(false);
    expect(window.committedOffset).toBe(100);
    expect(window.settle(0, 0)).toBe(true);
    expect(window.committedOffset).toBe(160);
    expect(window.inFlight).toBe(1);
    // Settling again, or numbers never issued, changes nothing.
    expect(window.settle(0, 3)).toBe(false);
    expect(window.settle(9, 12)).toBe(false);
    expect(window.settle(4, 4)).toBe(true);
    expect(window.committedOffset).toBe(161);
  });

  it('keeps order across growth of its ring with random settlement', () => {
    const window = new AckWindow(0);
    const count = 5000;
    for (let i = 0; i < count; i++) window.push((i + 1) * 10);
    const order = Array.from({ length: count }, (_, i) => i).sort(() => Math.random() - 0.5);
    const settled = new Set<number>();
    for (const sequence of order) {
      window.settle(sequence, sequence);
      settled.add(sequence);
      let prefix = 0;
      while (settled.has(prefix)) prefix++;
      expect(window.committedOffset).toBe(prefix * 10);
    }
    expect(window.inFlight).toBe(0);
    // Sequence numbers go on after the ring shrank back.
    expect(window.push(count * 10 + 5)).toBe(count);
  });

  it('commits skipped bytes at once when nothing is in flight, else with the newest record', () => {
    const window = new AckWindow(0);
    expect(window.skipTo(40)).toBe(true);
    expect(window.committedOffset).toBe(40);
    window.push(50);
    expect(window.skipTo(70)).toBe(false);
    window.settle(0, 0);
    expect(window.committedOffset).toBe(70);
  });
});

describe('checkpoint store', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    dir = await makeTempDir('riffle-checkpoints-');
  });
  afterEach(async () => {
    await dir.remove();
  });

  const entry = (path: string, offset: number): FileCheckpoint => ({ path, dev: '2049', ino: '12345678901234567890', fingerprint: 'ab'.repeat(16), fingerprintBytes: 1024, offset });

  it('writes a while after a change, not at once, and atomically', async () => {
    const file = join(dir.path, 'state', 'checkpoints');
    const timers = new ManualTimers();
    const store = await CheckpointStore.open(file, { schedule: timers.schedule, writeDelayMillis: 5000 });
    let files = [entry('/var/log/a.log', 10)];
    store.attach('flow-a', () => files);
    files = [entry('/var/log/a.log', 20)];
    store.changed();
    store.changed();
    expect(timers.armed).toBe(1);
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
    timers.fireAll();
    await store.flush();
    const written = JSON.parse(await readFile(file, 'utf8'));
    expect(written.flows['flow-a'].files).toEqual(files);
    expect(await readdir(join(dir.path, 'state'))).toEqual(['checkpoints']);

    const reopened = await CheckpointStore.open(file);
    expect(reopened.saved('flow-a')).toEqual(files);
    expect(reopened.saved('never-ran')).toBeUndefined();
  });

  it('keeps the entries of flows that are not running until their TTL', async () => {
    const file = join(dir.path, 'checkpoints');
    const clock = new ManualClock();
    const first = await CheckpointStore.open(file, { clock });
    first.attach('old', () => [entry('/a', 1)]);
    first.attach('kept', () => [entry('/b', 2)]);
    await first.close();

    clock.advance(3 * 24 * 3600 * 1000);
    const second = await CheckpointStore.open(file, { clock, ttlMillis: 7 * 24 * 3600 * 1000 });
    second.attach('kept', () => [entry('/b', 3)]);
    await second.close();
    expect((await CheckpointStore.open(file)).saved('old')).toEqual([entry('/a', 1)]);

    clock.advance(5 * 24 * 3600 * 1000);
    const third = await CheckpointStore.open(file, { clock, ttlMillis: 7 * 24 * 3600 * 1000 });
    third.changed();
    await third.close();
    const last = await CheckpointStore.open(file);
    expect(last.saved('old')).toBeUndefined();
    expect(last.saved('kept')).toEqual([entry('/b', 3)]);
  });

  it('refuses a file that is not a Riffle checkpoint file, and leaves it alone', async () => {
    const file = join(dir.path, 'checkpoints');
    for (const content of ['SQLite format 3\0', '{"flows": {}}', '{"format": "riffle-agent-checkpoints", "version": 99, "flows": {}}']) {
      await writeFile(file, content);
      await expect(CheckpointStore.open(file)).rejects.toMatchObject({ code: tailErrorCodes.checkpointUnreadable });
      expect(await readFile(file, 'utf8')).toBe(content);
    }
  });

  it('reports a failed write with its code and retries on the next flush', async () => {
    const file = join(dir.path, 'missing-later', 'checkpoints');
    const errors: string[] = [];
    const store = await CheckpointStore.open(file, { onError: (error) => errors.push(error.code) });
    await dir.remove();
    store.attach('flow', () => [entry('/a', 1)]);
    await store.flush();
    expect(errors).toEqual([tailErrorCodes.checkpointWriteFailed]);
    await mkdir(join(dir.path, 'missing-later'), { recursive: true });
    await store.flush();
    expect(JSON.parse(await readFile(file, 'utf8')).flows.flow.files).toEqual([entry('/a', 1)]);
  });
});
