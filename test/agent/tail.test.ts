/**
 * The tail source on real files in temp dirs: every rotation style while a writer keeps
 * writing (each line exactly once, in order per file), restarts from checkpoints, the
 * checkpoint watermark under out-of-order settlement, truncate-and-refill, initial position,
 * header lines, multiline records, truncation, binary data, compressed and unreadable files,
 * backpressure and status. Waits poll observable state with a deadline; no sleeps.
 */
import { closeSync, copyFileSync, openSync, renameSync, truncateSync, unlinkSync, writeFileSync, writeSync, appendFileSync, chmodSync } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { CheckpointStore, createTailSource, tailErrorCodes, tailSpecFromFlow, type Schedule, type TailError, type TailSource, type TailSourceSpec } from '../../agent/sources/tail/index.js';
import { parseAgentConfig } from '../../agent/config.js';
import { settleAll, type AckTarget, type AgentRecord } from '../../agent/record.js';
import { ManualClock, type Clock } from '../../shared/clock.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

type TempDir = Awaited<ReturnType<typeof makeTempDir>>;

/** Timings short enough for tests; the defaults are seconds. */
const fastTimings = { rotateWaitMillis: 300, pollIntervalMillis: 50, scanIntervalMillis: 1000 } satisfies Partial<TailSourceSpec>;

const neverFires: Schedule = () => () => undefined;

/** Polls often: these waits are on in-process state, cheap to check. */
const until = (what: string, condition: () => boolean): Promise<true> => pollUntil(what, condition, { timeoutMs: 5000, intervalMs: 5 });

interface TailOptions {
  pattern: string;
  spec?: Partial<TailSourceSpec>;
  /** Settle each record as it arrives (default), or leave it to the test. */
  autoSettle?: boolean;
  /** The consumer refuses more after every this many records (backpressure). */
  refuseEvery?: number;
  clock?: Clock;
  schedule?: Schedule;
  openFile?: (path: string) => ReturnType<typeof open>;
}

interface Tail {
  source: TailSource;
  store: CheckpointStore;
  records: AgentRecord[];
  errors: TailError[];
  texts(): string[];
  stop(): Promise<void>;
}

describe('tail source', () => {
  let dir: TempDir;
  let logs: string;
  let state: string;
  const running: Tail[] = [];

  beforeEach(async () => {
    dir = await makeTempDir('riffle-tail-');
    logs = join(dir.path, 'logs');
    state = join(dir.path, 'state');
    await mkdir(logs);
  });

  afterEach(async () => {
    for (const tail of running.splice(0)) await tail.stop();
    await dir.remove();
  });

  async function startTail(options: TailOptions): Promise<Tail> {
    const store = await CheckpointStore.open(join(state, 'checkpoints'), { writeDelayMillis: 50, ...(options.clock ? { clock: options.clock } : {}) });
    const records: AgentRecord[] = [];
    const errors: TailError[] = [];
    // The source's log, printed when the test fails: rotation races are hard to see otherwise.
    const log: string[] = [];
    const started = Date.now();
    onTestFailed(() => console.log(`tail source log:\n${log.join('\n')}`));
    const source = createTailSource(
      {
        flowId: 'kinesis:test:' + options.pattern,
        filePattern: options.pattern,
        initialPosition: 'START_OF_FILE',
        skipHeaderLines: 0,
        truncatedRecordTerminator: '\n',
        maxRecordBytes: 1024 * 1024 - 256,
        ...fastTimings,
        ...options.spec,
      },
      {
        consumer: {
          emit(record) {
            records.push(record);
            if (options.autoSettle !== false) settleAll(record.acks);
            return options.refuseEvery === undefined || records.length % options.refuseEvery !== 0;
          },
        },
        checkpoints: store,
        onError: (error) => errors.push(error),
        log: (event, fields) => log.push(`${Date.now() - started}ms ${event} ${JSON.stringify(fields)}`),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.schedule ? { schedule: options.schedule } : {}),
        ...(options.openFile ? { openFile: options.openFile } : {}),
      },
    );
    await source.start();
    let stopped = false;
    const tail: Tail = {
      source,
      store,
      records,
      errors,
      texts: () => records.map((record) => record.data.toString('utf8')),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await source.stop();
        await store.close();
      },
    };
    running.push(tail);
    return tail;
  }

  /** Asserts lines `<prefix> <first>` … `<prefix> <first + count - 1>` each arrived once, in order within each file. */
  function expectEachLineOnceInOrder(records: AgentRecord[], prefix: string, count: number, first = 0): void {
    const numbers = records.map((record) => {
      const text = record.data.toString('utf8');
      expect(text).toMatch(new RegExp(`^${prefix} \\d+\\n$`));
      return Number(text.slice(prefix.length + 1, -1));
    });
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => first + i));
    const byFile = new Map<AckTarget, number[]>();
    records.forEach((record, i) => {
      const target = record.acks[0]!.target;
      byFile.set(target, [...(byFile.get(target) ?? []), numbers[i]!]);
    });
    for (const sequence of byFile.values()) expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
  }

  /** An application writing numbered lines to its log through an open descriptor, as real ones do. */
  class AppWriter {
    private fd: number;
    next = 0;
    constructor(
      private path: string,
      private readonly prefix = 'line',
    ) {
      this.fd = openSync(path, 'a');
    }
    write(count: number): void {
      for (let i = 0; i < count; i++) writeSync(this.fd, `${this.prefix} ${this.next++}\n`);
    }
    /** Keeps writing `count` lines, yielding now and then so the source runs meanwhile. */
    async writeSlowly(count: number): Promise<void> {
      for (let i = 0; i < count; i += 10) {
        this.write(Math.min(10, count - i));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    /** Closes the descriptor and opens `path` (the app's log reopen after rotation). */
    reopen(path = this.path): void {
      closeSync(this.fd);
      this.path = path;
      this.fd = openSync(path, 'a');
    }
    close(): void {
      closeSync(this.fd);
    }
  }

  /**
   * Waits until the source has emitted `line <n>`. A file renamed out of the pattern or deleted
   * before the source ever opened it is not the flow's any more (the Kinesis Agent's advice: let
   * the pattern match rotated names); in life rotations are hours apart, so the tests that
   * rotate out of the pattern let the source see each new file before rotating it.
   */
  async function untilSeen(tail: Tail, line: number): Promise<void> {
    await until(`line ${line} seen`, () => tail.texts().includes(`line ${line}\n`));
  }

  describe('rotation while writing, every line once and in order per file', () => {
    it('rename + create, the rotated name outside the pattern, with late writes to the renamed file', async () => {
      const tail = await startTail({ pattern: join(logs, '*.log'), spec: { initialPosition: 'END_OF_FILE' } });
      const app = join(logs, 'app.log');
      const writer = new AppWriter(app);
      await writer.writeSlowly(300);
      await untilSeen(tail, 0);
      renameSync(app, `${app}.1`);
      await writer.writeSlowly(50); // the app has not reopened yet: these go to app.log.1
      writer.reopen();
      const second = writer.next;
      await writer.writeSlowly(300);
      await untilSeen(tail, second);
      renameSync(`${app}.1`, `${app}.2`);
      renameSync(app, `${app}.1`);
      writer.reopen();
      await writer.writeSlowly(300);
      writer.close();
      await until('all lines', () => tail.records.length >= writer.next);
      expectEachLineOnceInOrder(tail.records, 'line', writer.next);
      // The renamed files are read to their end, then closed; only the live file remains.
      await until('rotated files ended', () => tail.source.status().files.length === 1);
      expect(tail.source.status().files[0]).toMatchObject({ path: app, state: 'live' });
    });

    it('rename + create, the rotated name inside the pattern', async () => {
      const tail = await startTail({ pattern: join(logs, 'app.log*') });
      const app = join(logs, 'app.log');
      const writer = new AppWriter(app);
      for (let rotation = 1; rotation <= 3; rotation++) {
        await writer.writeSlowly(200);
        for (let n = rotation - 1; n >= 1; n--) renameSync(`${app}.${n}`, `${app}.${n + 1}`);
        renameSync(app, `${app}.1`);
        writer.write(5);
        writer.reopen();
      }
      await writer.writeSlowly(200);
      writer.close();
      await until('all lines', () => tail.records.length >= writer.next);
      expectEachLineOnceInOrder(tail.records, 'line', writer.next);
      // Paths follow the renames (by inode) once the directory's events are handled.
      const paths = () => tail.source.status().files.map((file) => file.path).sort().join(' ');
      await until('paths follow the renames', () => paths() === [app, `${app}.1`, `${app}.2`, `${app}.3`].join(' '));
    });

    // With the copy outside the pattern, only content the source has begun to read is looked
    // for in copies, so that writer lets the source see each generation start (see untilSeen).
    for (const [title, glob, letSourceSeeEachGeneration] of [
      ['the copy inside the pattern', 'app.log*', false],
      ['the copy outside the pattern', '*.log', true],
    ] as const) {
      it(`copytruncate, ${title}`, async () => {
        const tail = await startTail({ pattern: join(logs, glob) });
        const app = join(logs, 'app.log');
        const writer = new AppWriter(app);
        for (let rotation = 1; rotation <= 3; rotation++) {
          const first = writer.next;
          await writer.writeSlowly(250);
          if (letSourceSeeEachGeneration) await untilSeen(tail, first);
          // logrotate copytruncate: copy, then truncate in place; the app writes on (O_APPEND).
          for (let n = rotation - 1; n >= 1; n--) renameSync(`${app}.${n}`, `${app}.${n + 1}`);
          copyFileSync(app, `${app}.1`);
          truncateSync(app, 0);
        }
        await writer.writeSlowly(250);
        writer.close();
        await until('all lines', () => tail.records.length >= writer.next);
        expectEachLineOnceInOrder(tail.records, 'line', writer.next);
      });
    }

    it('timestamped new files', async () => {
      const tail = await startTail({ pattern: join(logs, 'app.log.*') });
      const writer = new AppWriter(join(logs, 'app.log.2026-01-01'));
      await writer.writeSlowly(300);
      writer.reopen(join(logs, 'app.log.2026-01-02'));
      await writer.writeSlowly(300);
      writer.reopen(join(logs, 'app.log.2026-01-03'));
      await writer.writeSlowly(300);
      writer.close();
      await until('all lines', () => tail.records.length >= writer.next);
      expectEachLineOnceInOrder(tail.records, 'line', writer.next);
      expect(tail.source.status().files).toHaveLength(3);
    });

    it('deletion, with writes after the unlink read before the file is let go', async () => {
      const tail = await startTail({ pattern: join(logs, '*.log') });
      const app = join(logs, 'app.log');
      const writer = new AppWriter(app);
      await writer.writeSlowly(300);
      await untilSeen(tail, 0);
      unlinkSync(app);
      await writer.writeSlowly(50);
      writer.reopen();
      await writer.writeSlowly(300);
      writer.close();
      await until('all lines', () => tail.records.length >= writer.next);
      expectEachLineOnceInOrder(tail.records, 'line', writer.next);
      await until('the deleted file let go', () => tail.source.status().files.length === 1);
    });
  });

  describe('checkpoints', () => {
    it('restarts where it stopped: no line lost, none repeated', async () => {
      const a = join(logs, 'a.log');
      const b = join(logs, 'b.log');
      const writerA = new AppWriter(a, 'a');
      const writerB = new AppWriter(b, 'b');
      writerA.write(100);
      writerB.write(40);
      const first = await startTail({ pattern: join(logs, '*.log') });
      await until('first lines', () => first.records.length === 140);
      await first.stop();

      writerA.write(30);
      writerB.write(10);
      // While the agent is down, b.log is rotated out of the pattern and a new b.log begins.
      renameSync(b, `${b}.1`);
      writerB.write(5); // still to the renamed file
      writerB.reopen();
      writerB.write(20);
      const second = await startTail({ pattern: join(logs, '*.log') });
      await until('lines written while stopped', () => second.records.length >= 65);
      await second.source.tick();
      const texts = second.texts();
      expect(texts.filter((text) => text.startsWith('a '))).toEqual(Array.from({ length: 30 }, (_, i) => `a ${100 + i}\n`));
      expectEachLineOnceInOrder(
        second.records.filter((record) => record.data.toString().startsWith('b ')),
        'b',
        35,
        40,
      );
      writerA.close();
      writerB.close();
    });

    it('does not move past a record that is not settled, whatever settles after it', async () => {
      const path = join(logs, 'app.log');
      const lines = Array.from({ length: 10 }, (_, i) => `line ${i}\n`);
      writeFileSync(path, lines.join(''));
      const lineEnd = (n: number) => lines.slice(0, n + 1).join('').length;
      const first = await startTail({ pattern: join(logs, '*.log'), autoSettle: false });
      await until('ten records', () => first.records.length === 10);

      for (const record of first.records.slice(5)) settleAll(record.acks);
      expect(first.source.status().files[0]!.checkpointOffset).toBe(0);
      settleAll(first.records[1]!.acks);
      settleAll(first.records[2]!.acks);
      expect(first.source.status().files[0]!.checkpointOffset).toBe(0);
      settleAll(first.records[0]!.acks);
      expect(first.source.status().files[0]!.checkpointOffset).toBe(lineEnd(2));
      await first.stop();
      const stored = JSON.parse(await readFile(join(state, 'checkpoints'), 'utf8'));
      expect(stored.flows[`kinesis:test:${join(logs, '*.log')}`].files[0].offset).toBe(lineEnd(2));

      // Records 3 and 4 were never settled: they come again, and so do 5-9 after them.
      const second = await startTail({ pattern: join(logs, '*.log') });
      await until('the unsettled rest', () => second.records.length === 7);
      expect(second.texts()).toEqual(lines.slice(3));
    });

    it('starts over when the file at the checkpoint was truncated and refilled, running or stopped', async () => {
      const path = join(logs, 'app.log');
      writeFileSync(path, Array.from({ length: 10 }, (_, i) => `old ${i}\n`).join(''));
      const first = await startTail({ pattern: join(logs, '*.log') });
      await until('old lines', () => first.records.length === 10);
      const inode = (await stat(path)).ino;
      // Truncated and refilled past the read offset before the source looks: same inode, same size class.
      truncateSync(path, 0);
      appendFileSync(path, Array.from({ length: 20 }, (_, i) => `new ${i}\n`).join(''));
      expect((await stat(path)).ino).toBe(inode);
      await until('new lines', () => first.records.length === 30);
      expectEachLineOnceInOrder(first.records.slice(10), 'new', 20);
      await first.stop();

      // The same while stopped (an inode reused for new content looks the same).
      truncateSync(path, 0);
      appendFileSync(path, Array.from({ length: 30 }, (_, i) => `again ${i}\n`).join(''));
      const second = await startTail({ pattern: join(logs, '*.log') });
      await until('lines of the new content', () => second.records.length === 30);
      expectEachLineOnceInOrder(second.records, 'again', 30);
    });
  });

  describe('initial position', () => {
    it('END_OF_FILE starts after the last complete line of files present at the first run only', async () => {
      const path = join(logs, 'app.log');
      writeFileSync(path, 'old 1\nold 2\npart');
      const first = await startTail({ pattern: join(logs, '*.log'), spec: { initialPosition: 'END_OF_FILE' } });
      await first.source.tick();
      expect(first.records).toHaveLength(0);
      appendFileSync(path, 'ial\nnext\n');
      writeFileSync(join(logs, 'later.log'), 'later 1\n');
      await until('new lines', () => first.records.length === 3);
      expect(first.texts().sort()).toEqual(['later 1\n', 'next\n', 'partial\n']);
      await first.stop();

      // Once the flow has checkpoints, a file found at start without one is new: read whole.
      writeFileSync(join(logs, 'while-down.log'), 'down 1\ndown 2\n');
      const second = await startTail({ pattern: join(logs, '*.log'), spec: { initialPosition: 'END_OF_FILE' } });
      await until('the new file', () => second.records.length === 2);
      expect(second.texts()).toEqual(['down 1\n', 'down 2\n']);
    });
  });

  describe('records', () => {
    it('skips header lines of each file', async () => {
      writeFileSync(join(logs, 'a.csv'), 'time,value\nms,celsius\n1,20\n2,21\n');
      const tail = await startTail({ pattern: join(logs, '*.csv'), spec: { skipHeaderLines: 2 } });
      await until('a.csv', () => tail.records.length === 2);
      writeFileSync(join(logs, 'b.csv'), 'time,value\nms,celsius\n3,22\n');
      await until('b.csv', () => tail.records.length === 3);
      expect(tail.texts()).toEqual(['1,20\n', '2,21\n', '3,22\n']);
      // Header bytes count as delivered once the first record is.
      const a = tail.source.status().files.find((file) => file.path.endsWith('a.csv'))!;
      expect(a.checkpointOffset).toBe(a.size);
    });

    it('joins multiline records, and sends the last one when the file has been quiet', async () => {
      const clock = new ManualClock();
      const path = join(logs, 'app.log');
      const tail = await startTail({ pattern: join(logs, '*.log'), clock, schedule: neverFires, spec: { multiLineStartPattern: '^\\d{4}-\\d{2}-\\d{2} ', multiLineFlushMillis: 4000 } });
      writeFileSync(path, '2026-01-01 boom\n  at a()\n  at b()\n2026-01-01 second\n  at c()\n');
      await until('first record', () => tail.records.length === 1);
      expect(tail.texts()).toEqual(['2026-01-01 boom\n  at a()\n  at b()\n']);
      clock.advance(3999);
      await tail.source.tick();
      expect(tail.records).toHaveLength(1);
      clock.advance(1);
      await tail.source.tick();
      expect(tail.texts()[1]).toBe('2026-01-01 second\n  at c()\n');
    });

    it('cuts lines over the record limit with truncatedRecordTerminator', async () => {
      const path = join(logs, 'app.log');
      writeFileSync(path, `short\n${'x'.repeat(100)}\nafter\n`);
      const tail = await startTail({ pattern: join(logs, '*.log'), spec: { maxRecordBytes: 32, truncatedRecordTerminator: '…\n' } });
      await until('three records', () => tail.records.length === 3);
      const terminator = Buffer.from('…\n');
      expect(tail.records[1]!.data.equals(Buffer.concat([Buffer.from('x'.repeat(32 - terminator.length)), terminator]))).toBe(true);
      expect(tail.texts()[2]).toBe('after\n');
      expect(tail.source.status().files[0]).toMatchObject({ truncatedRecords: 1, recordsEmitted: 3 });
    });

    it('passes binary data, invalid UTF-8 and \\r\\n through unchanged', async () => {
      const lines = Array.from({ length: 50 }, () => Buffer.concat([randomBytes(200).map((byte) => (byte === 0x0a ? 0 : byte)), Buffer.from([0xc3, 0x28, 0xff, 0x0d, 0x0a])]));
      writeFileSync(join(logs, 'bin.log'), Buffer.concat(lines));
      const tail = await startTail({ pattern: join(logs, '*.log'), spec: { readChunkBytes: 1000 } });
      await until('all lines', () => tail.records.length === 50);
      tail.records.forEach((record, i) => expect(record.data.equals(lines[i]!)).toBe(true));
    });

    it('skips compressed files, by name or by content', async () => {
      const text = 'must not be read\n';
      writeFileSync(join(logs, 'app.log'), 'plain\n');
      writeFileSync(join(logs, 'app.log.1.gz'), gzipSync(text));
      writeFileSync(join(logs, 'app.log.2'), gzipSync(text));
      writeFileSync(join(logs, 'app.log.3'), Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from(text)]));
      writeFileSync(join(logs, 'app.log.4.XZ'), text);
      const tail = await startTail({ pattern: join(logs, 'app.log*') });
      await until('plain line', () => tail.records.length === 1);
      await tail.source.tick();
      expect(tail.texts()).toEqual(['plain\n']);
      expect(tail.source.status().skippedCompressed.sort()).toEqual(['app.log.1.gz', 'app.log.2', 'app.log.3', 'app.log.4.XZ'].map((name) => join(logs, name)));
    });
  });

  it('reports an unreadable file with its code and reads it once it is readable', async () => {
    const path = join(logs, 'secret.log');
    writeFileSync(path, 'hidden 1\nhidden 2\n');
    chmodSync(path, 0o000);
    // Root reads any file whatever its mode: enforce the mode as an unprivileged agent sees it.
    const openAsUnprivileged = async (file: string) => {
      if (((await stat(file)).mode & 0o444) === 0) throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
      return open(file, 'r');
    };
    const tail = await startTail({ pattern: join(logs, '*.log'), openFile: openAsUnprivileged });
    writeFileSync(join(logs, 'other.log'), 'visible\n');
    await until('the readable file', () => tail.records.length === 1);
    expect(tail.errors.map((error) => [error.code, error.path])).toEqual([[tailErrorCodes.fileUnreadable, path]]);
    expect(tail.source.status().unreadable).toEqual([expect.objectContaining({ path, code: tailErrorCodes.fileUnreadable })]);
    chmodSync(path, 0o644);
    await until('the file once readable', () => tail.records.length === 3);
    expect(tail.texts().slice(1)).toEqual(['hidden 1\n', 'hidden 2\n']);
    expect(tail.source.status().unreadable).toEqual([]);
    expect(tail.errors).toHaveLength(1);
  });

  it('stops reading when the consumer refuses more, until resumed', async () => {
    writeFileSync(join(logs, 'app.log'), Array.from({ length: 35 }, (_, i) => `line ${i}\n`).join(''));
    const tail = await startTail({ pattern: join(logs, '*.log'), refuseEvery: 10 });
    await until('first ten', () => tail.records.length === 10);
    await tail.source.tick();
    await tail.source.tick();
    expect(tail.records).toHaveLength(10);
    expect(tail.source.status().paused).toBe(true);
    for (const expected of [20, 30, 35]) {
      tail.source.resume();
      await until(`${expected} records`, () => tail.records.length === expected);
      await tail.source.tick();
      expect(tail.records).toHaveLength(expected);
    }
    expectEachLineOnceInOrder(tail.records, 'line', 35);
  });

  it('reports per file: offsets, size, lag in bytes and seconds, records', async () => {
    const clock = new ManualClock();
    const path = join(logs, 'app.log');
    const content = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join('');
    writeFileSync(path, content);
    const tail = await startTail({ pattern: join(logs, '*.log'), autoSettle: false, clock });
    await until('records', () => tail.records.length === 20);
    clock.advance(3000);
    const { ino } = await stat(path, { bigint: true });
    expect(tail.source.status().files).toEqual([
      expect.objectContaining({ path, state: 'live', ino: String(ino), readOffset: content.length, checkpointOffset: 0, size: content.length, lagBytes: content.length, lagSeconds: 3, recordsEmitted: 20, recordsInFlight: 20 }),
    ]);
    for (const record of tail.records) settleAll(record.acks);
    expect(tail.source.status().files[0]).toMatchObject({ checkpointOffset: content.length, lagBytes: 0, lagSeconds: 0, recordsInFlight: 0 });
  });

  it('waits for a directory that is not there yet', async () => {
    const later = join(logs, 'later');
    const tail = await startTail({ pattern: join(later, '*.log') });
    expect(tail.errors).toEqual([]);
    await mkdir(later);
    writeFileSync(join(later, 'app.log'), 'first\n');
    await until('the first line', () => tail.records.length === 1);
    appendFileSync(join(later, 'app.log'), 'second\n');
    await until('the second line', () => tail.records.length === 2);
    expect(tail.texts()).toEqual(['first\n', 'second\n']);
  });

  it('runs a Kinesis Agent file flow from agent.json as it is', async () => {
    const config = parseAgentConfig(
      { flows: [{ filePattern: join(logs, 'app.log*'), kinesisStream: 'app', initialPosition: 'START_OF_FILE', multiLineStartPattern: '^\\[', skipHeaderLines: 1 }] },
      'agent.json',
      state,
      {},
    );
    const [flow] = config.flows;
    if (flow?.source.kind !== 'file') throw new Error('expected a file flow');
    writeFileSync(join(logs, 'app.log'), 'header\n[1] one\n  more\n[2] two\n');
    const store = await CheckpointStore.open(config.checkpointFile);
    const records: AgentRecord[] = [];
    const consumer = {
      emit: (record: AgentRecord) => {
        records.push(record);
        return true;
      },
    };
    const source = createTailSource(tailSpecFromFlow(flow.id, flow.source, 1024 * 1024 - 256), { consumer, checkpoints: store });
    await source.start();
    await until('the first record', () => records.length === 1);
    expect(records[0]!.data.toString()).toBe('[1] one\n  more\n');
    await source.stop();
    await store.close();
    expect(JSON.parse(await readFile(join(state, 'checkpoints'), 'utf8')).flows[flow.id].files).toHaveLength(1);
  });
});
