/**
 * The flow's queueing policy: a slow but working target pauses the source (no disk writes);
 * a failing target sends batches to the spool and lets the source go on. The sink here is a
 * scripted stand-in so each send can be held or failed at will; the real sinks against a real
 * collector are covered by sinks.test.ts and the agent end-to-end tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { PackedRecords } from '../../agent/buffer/packed-records.js';
import { Spool } from '../../agent/buffer/spool.js';
import type { FlowConfig } from '../../agent/config.js';
import { Flow } from '../../agent/pipeline.js';
import { buildProcessors } from '../../agent/processors/index.js';
import type { AckTarget } from '../../agent/record.js';
import type { SendOutcome, Sink, SinkRecord } from '../../agent/sinks/index.js';
import { kinesisSink } from '../../agent/sinks/kinesis.js';
import { partitionKeyHash, uniformRanges } from '../../shared/hash-key.js';
import { createHash } from 'node:crypto';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const flowConfig: FlowConfig = {
  id: 'test-flow',
  source: { kind: 'file', filePattern: '/nonexistent/*.log', initialPosition: 'START_OF_FILE', skipHeaderLines: 0, truncatedRecordTerminator: '\n' },
  destination: { kind: 'kinesis', stream: 'events' },
  partitionKeyOption: 'RANDOM',
  maxBufferAgeMillis: 60_000,
  maxBufferSizeBytes: 1024 * 1024,
  // One record per batch, so every accepted record is one queued batch.
  maxBufferSizeRecords: 1,
  retryInitialBackoffMillis: 1,
  retryMaxBackoffMillis: 5,
  dataProcessingOptions: [],
  aggregation: false,
  compression: 'none',
  whenSpoolFull: 'backpressure',
};

/** A sink whose sends wait for the test: `answer` settles the oldest waiting send. */
class ScriptedSink implements Sink {
  readonly name = 'scripted';
  readonly limits = kinesisSink.limits;
  readonly delivered: string[] = [];
  readonly partitionKeys: string[] = [];
  private readonly waiting: Array<{ records: SinkRecord[]; resolve: (outcomes: SendOutcome[]) => void }> = [];
  /** When set, sends answer at once: 'ok' delivers, 'retry' refuses every record. */
  mode: 'hold' | 'ok' | 'retry' = 'hold';

  send(_stream: string, input: PackedRecords | readonly SinkRecord[]): Promise<SendOutcome[]> {
    const records = input instanceof PackedRecords ? input.toArray() : [...input];
    if (this.mode === 'ok') return Promise.resolve(this.accept(records));
    if (this.mode === 'retry') return Promise.resolve(records.map(() => ({ kind: 'retry', code: 'NETWORK_ERROR', message: 'connection refused', throttled: false })));
    return new Promise((resolve) => this.waiting.push({ records, resolve }));
  }

  close(): void {}

  get held(): number {
    return this.waiting.length;
  }

  /** Answers every held send with `outcome`. */
  answerAll(outcome: 'ok' | 'retry'): void {
    for (const { records, resolve } of this.waiting.splice(0)) {
      resolve(outcome === 'ok' ? this.accept(records) : records.map(() => ({ kind: 'retry', code: 'NETWORK_ERROR', message: 'refused', throttled: false })));
    }
  }

  private accept(records: SinkRecord[]): SendOutcome[] {
    for (const record of records) {
      this.delivered.push(record.data.toString());
      this.partitionKeys.push(record.partitionKey);
    }
    return records.map(() => ({ kind: 'ok' }));
  }
}

class SettledSet implements AckTarget {
  readonly spoolIsSafe = false;
  readonly settled = new Set<number>();
  settle(from: number, to: number): void {
    for (let n = from; n <= to; n++) this.settled.add(n);
  }
}

describe('flow queueing', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let spool: Spool;
  let flow: Flow;
  let sink: ScriptedSink;
  let pauses: boolean[];

  beforeEach(async () => {
    dir = await makeTempDir('riffle-pipeline-');
    sink = new ScriptedSink();
    pauses = [];
    spool = await Spool.open({ directory: dir.path, maxSizeMB: 8, syncIntervalMillis: 5 });
    flow = new Flow({
      config: flowConfig,
      processor: buildProcessors([], 'test'),
      sink,
      spool,
      clock: systemClock,
      log: () => undefined,
      maxConcurrentSends: 1,
      onBackpressure: (paused) => pauses.push(paused),
    });
  });

  afterEach(async () => {
    sink.mode = 'ok';
    sink.answerAll('ok');
    await flow.stop(1000);
    await spool.close();
    await dir.remove();
  });

  function emit(target: SettledSet, count: number, from = 0): boolean[] {
    return Array.from({ length: count }, (_, i) => flow.accept({ data: Buffer.from(`line-${from + i}`), acks: [{ target, from: from + i, to: from + i }] }));
  }

  it('pauses the source while a working target is slow, and writes nothing to the spool', async () => {
    const lines = new SettledSet();
    const taken = emit(lines, 6);
    // One batch in flight, then four queued: the fifth queued one pauses the source.
    expect(taken).toEqual([true, true, true, true, false, false]);
    expect(pauses).toEqual([true]);
    await pollUntil('first send', () => sink.held === 1);

    sink.mode = 'ok';
    sink.answerAll('ok');
    await pollUntil('all delivered', () => sink.delivered.length === 6);
    expect(pauses).toEqual([true, false]);
    expect(sink.delivered).toEqual(Array.from({ length: 6 }, (_, i) => `line-${i}`));
    expect(flow.status()).toMatchObject({ batchesSpooled: 0, recordsSent: 6, spoolBytes: 0 });
    expect([...lines.settled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('spools while the target fails, keeps taking records, and delivers all of them once it works', async () => {
    const lines = new SettledSet();
    emit(lines, 5);
    expect(pauses).toEqual([true]);
    await pollUntil('first send', () => sink.held === 1);

    sink.mode = 'retry';
    sink.answerAll('retry');
    // The failure moves the queued batches to disk and lets the source go on.
    await pollUntil('memory spilled', () => pauses.length === 2);
    expect(pauses).toEqual([true, false]);
    expect(emit(lines, 5, 5).every(Boolean)).toBe(true);
    await pollUntil('batches spooled', () => flow.status().batchesSpooled === 9);
    expect(lines.settled.size).toBe(0); // file lines stay pending until delivered

    sink.mode = 'ok';
    await pollUntil('all delivered', () => lines.settled.size === 10);
    expect([...sink.delivered].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `line-${i}`).sort());
    expect(sink.delivered).toHaveLength(10);
  });
});

describe('partition keys', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    dir = await makeTempDir('riffle-pipeline-keys-');
  });
  afterEach(() => dir.remove());

  /** The keys a flow with `partitionKeyOption` gives `count` records, as its sink receives them. */
  async function keysFor(partitionKeyOption: FlowConfig['partitionKeyOption'], count: number): Promise<{ keys: string[]; lines: string[] }> {
    const sink = new ScriptedSink();
    sink.mode = 'ok';
    const spool = await Spool.open({ directory: dir.path, maxSizeMB: 8, syncIntervalMillis: 5 });
    const flow = new Flow({
      config: { ...flowConfig, partitionKeyOption, maxBufferSizeRecords: 500 },
      processor: buildProcessors([], 'test'),
      sink,
      spool,
      clock: systemClock,
      log: () => undefined,
      maxConcurrentSends: 4,
      onBackpressure: () => undefined,
    });
    const target = new SettledSet();
    for (let i = 0; i < count; i++) flow.accept({ data: Buffer.from(`line-${i % 100}`), acks: [{ target, from: i, to: i }] });
    await flow.stop(1000);
    await spool.close();
    expect(sink.delivered).toHaveLength(count);
    return { keys: sink.partitionKeys, lines: sink.delivered };
  }

  it('RANDOM: short decimal keys that spread the records evenly over the shards', async () => {
    const { keys } = await keysFor('RANDOM', 4000);
    expect(keys.every((key) => /^\d{1,15}$/.test(key))).toBe(true);
    expect(new Set(keys).size).toBeGreaterThan(2000); // 4,000 draws from 4,096 keys: about 2,590 distinct
    // Four shards of equal hash ranges, as CreateStream makes them: each gets about a quarter.
    const shards = uniformRanges(4);
    const perShard = shards.map(({ start, end }) => keys.filter((key) => partitionKeyHash(key) >= start && partitionKeyHash(key) <= end).length);
    for (const count of perShard) expect(count).toBeGreaterThan(800);
  });

  it('DETERMINISTIC: the MD5 of the data, so equal records share a key', async () => {
    const { keys, lines } = await keysFor('DETERMINISTIC', 300);
    expect(keys).toEqual(lines.map((line) => createHash('md5').update(line).digest('hex')));
  });
});
