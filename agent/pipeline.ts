/**
 * One flow's way from its source to its target: processors → partition key → batcher →
 * sender, with the disk spool beside the sender.
 *
 * Invariants
 * - Acknowledgements drive progress: a record's acks are settled only when the target accepted
 *   it (or refused it for good — counted and logged), or, for sources that allow it (MQTT), when
 *   the spool durably holds it. A file checkpoint therefore never passes undelivered data.
 * - Memory first, disk when failing: while sends succeed, batches wait in memory, and a full
 *   memory queue (MEMORY_QUEUE_BATCHES) pauses the source rather than spooling — a slow but
 *   working collector costs no disk writes. Once sends fail (collector unreachable or
 *   refusing), queued batches and new ones go to the spool; while the spool holds anything,
 *   every new batch goes there too, so delivery stays in order.
 * - Retries and backoff live here, not in the sinks: a sink reports ok / retry / error per
 *   record and only the records that asked for it are sent again, after `Backoff`'s wait.
 * - Backpressure: when the memory queue is full while sends succeed, or the spool is full
 *   (policy backpressure), `accept` returns false and `onBackpressure(true)` tells the source to
 *   stop reading; it is told `false` once there is room again. Until then, batches wait where
 *   they are (bounded by what the paused source had in flight).
 */
import { createHash, randomInt } from 'node:crypto';
import { Backoff } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import { Aggregator } from '../shared/kpl-aggregation.js';
import type { Logger } from '../shared/log.js';
import { Batcher, type Batch } from './buffer/batcher.js';
import { PackedRecords } from './buffer/packed-records.js';
import type { Spool, SpooledBatch } from './buffer/spool.js';
import type { FlowConfig } from './config.js';
import { isProcessFailure, type Processor } from './processors/index.js';
import { settleAll, type Ack, type AgentRecord } from './record.js';
import type { SendOutcome, Sink } from './sinks/index.js';

/** Batches queued in memory before the source is paused (or, while sends fail, spooled). */
const MEMORY_QUEUE_BATCHES = 4;
/** Parse failures are logged at most this often per flow (each one is counted). */
const PARSE_FAILURE_LOG_INTERVAL_MS = 10_000;
/**
 * RANDOM partition keys: each record gets one of this many random numbers, drawn per record
 * (the Kinesis Agent's RANDOM keys are random numbers too). What RANDOM is for is spreading
 * records evenly over the shards; MD5 spreads 4,096 distinct keys well enough for any stream a
 * device writes to (a shard of a 100-shard stream gets 41 ± 6 of them). A key drawn from a pool
 * built once costs no string per record: randomUUID per line, and sizing its 36 characters in
 * the batcher and the sink, were 5% of the agent's CPU time (bench:agent profile).
 */
const RANDOM_PARTITION_KEYS = 4096;
/** Random keys are decimal numbers below 2^48 − 1 (randomInt's limit): at most 15 ASCII bytes each. */
const RANDOM_PARTITION_KEY_LIMIT = 2 ** 48 - 1;

export interface FlowCounters {
  recordsIn: number;
  parseFailures: number;
  recordsSent: number;
  recordsFailed: number;
  recordsDropped: number;
  batchesSpooled: number;
  retries: number;
}

export interface FlowStatus extends FlowCounters {
  id: string;
  target: string;
  queuedBatches: number;
  sending: number;
  spoolBytes: number;
  lastError?: { code: string; message: string; atMs: number };
}

export interface FlowDeps {
  config: FlowConfig;
  processor: Processor;
  sink: Sink;
  spool: Spool;
  clock: Clock;
  log: Logger;
  /** Concurrent sends this flow may have in flight (`maxSendingThreads`). */
  maxConcurrentSends: number;
  onBackpressure(paused: boolean): void;
}

interface QueuedBatch {
  records: PackedRecords;
  acks: Ack[];
  fromSpool?: SpooledBatch;
}

export class Flow {
  readonly counters: FlowCounters = { recordsIn: 0, parseFailures: 0, recordsSent: 0, recordsFailed: 0, recordsDropped: 0, batchesSpooled: 0, retries: 0 };
  private readonly batcher: Batcher;
  private readonly aggregator: Aggregator | undefined;
  private readonly backoff: Backoff;
  private readonly memoryQueue: QueuedBatch[] = [];
  private readonly streamName: string;
  private sending = 0;
  private spoolDraining = false;
  /** Batches whose spool append has not resolved yet: while any exists the spool is "in use". */
  private spoolAppends = 0;
  private spoolHasData = false;
  private spoolFull = false;
  private memoryFull = false;
  /** The last send attempt needed a retry: the target is unreachable or refusing. */
  private failing = false;
  private stopped = false;
  private lastParseFailureLogMs = -Infinity;
  private lastError: FlowStatus['lastError'];
  private idleWaiters: Array<() => void> = [];
  /** The RANDOM keys (see RANDOM_PARTITION_KEYS), made on first use. */
  private randomKeys: string[] | undefined;

  constructor(private readonly deps: FlowDeps) {
    const { config } = deps;
    this.streamName = config.destination.kind === 'kinesis' ? config.destination.stream : config.destination.deliveryStream;
    this.backoff = new Backoff(config);
    this.aggregator = config.aggregation ? new Aggregator() : undefined;
    this.batcher = new Batcher({
      target: config.destination.kind,
      maxBufferAgeMillis: config.maxBufferAgeMillis,
      maxBufferSizeBytes: config.maxBufferSizeBytes,
      maxBufferSizeRecords: config.maxBufferSizeRecords,
      clock: deps.clock,
      onBatch: (batch) => this.enqueue(batch),
    });
    this.spoolHasData = deps.spool.stats().bytes > 0;
    if (this.spoolHasData) this.drainSpool();
  }

  get id(): string {
    return this.deps.config.id;
  }

  /**
   * Takes one record from the source. Returns false when the source should pause (the flow is
   * full); the record is taken all the same.
   */
  accept(record: AgentRecord): boolean {
    this.counters.recordsIn++;
    const processed = this.deps.processor(record.data);
    if (isProcessFailure(processed)) {
      this.counters.parseFailures++;
      const now = this.deps.clock.now();
      if (now - this.lastParseFailureLogMs >= PARSE_FAILURE_LOG_INTERVAL_MS) {
        this.lastParseFailureLogMs = now;
        this.deps.log('record_not_processed', { flow: this.id, code: processed.code, reason: processed.reason, failuresSoFar: this.counters.parseFailures });
      }
      settleAll(record.acks); // counted and logged: nothing will ever make it parse
      return !this.paused;
    }
    const partitionKey = record.partitionKey ?? this.partitionKeyFor(processed);
    this.batcher.add({ data: processed, partitionKey, acks: record.acks });
    return !this.paused;
  }

  private get paused(): boolean {
    return this.spoolFull || this.memoryFull;
  }

  private setPause(reason: 'spoolFull' | 'memoryFull', value: boolean): void {
    const before = this.paused;
    this[reason] = value;
    if (this.paused !== before) this.deps.onBackpressure(this.paused);
  }

  /** Sends what is buffered now (MQTT: many acknowledgements are waiting). */
  flushNow(): void {
    this.batcher.flush();
  }

  private partitionKeyFor(data: Buffer): string {
    // Kinesis Agent: RANDOM spreads records over shards; DETERMINISTIC hashes the data.
    if (this.deps.config.partitionKeyOption === 'DETERMINISTIC') return createHash('md5').update(data).digest('hex');
    this.randomKeys ??= Array.from({ length: RANDOM_PARTITION_KEYS }, () => String(randomInt(RANDOM_PARTITION_KEY_LIMIT)));
    return this.randomKeys[Math.floor(Math.random() * RANDOM_PARTITION_KEYS)]!;
  }

  private enqueue(batch: Batch): void {
    const queued = this.toQueued(batch);
    if (this.spoolHasData || this.spoolAppends > 0 || (this.failing && this.memoryQueue.length >= MEMORY_QUEUE_BATCHES)) {
      this.spoolBatch(queued);
      return;
    }
    this.memoryQueue.push(queued);
    if (this.memoryQueue.length >= MEMORY_QUEUE_BATCHES) this.setPause('memoryFull', true);
    this.pump();
  }

  /** Sends started failing: what waits in memory goes to disk, and the source may go on. */
  private spillMemoryQueue(): void {
    for (const batch of this.memoryQueue.splice(0)) this.spoolBatch(batch);
    this.setPause('memoryFull', false);
  }

  private toQueued(batch: Batch): QueuedBatch {
    // Every record got its key in `accept`: the batch's records are already what the sink sends.
    if (!this.aggregator) return { records: batch.records, acks: batch.acks };
    // KPL aggregation: many small user records per Kinesis record, each at most 1 MiB.
    // PackedRecords.from copies each record's data: the aggregator's records go in as they are.
    const records: Array<{ data: Buffer; partitionKey: string; explicitHashKey?: string | undefined }> = [];
    for (let i = 0; i < batch.records.length; i++) {
      const user = { partitionKey: batch.records.partitionKey(i)!, data: batch.records.data(i) };
      if (this.aggregator.add(user)) continue;
      if (this.aggregator.count > 0) records.push(this.aggregator.take());
      if (!this.aggregator.add(user)) records.push(user); // too large to aggregate: sent as it is
    }
    if (this.aggregator.count > 0) records.push(this.aggregator.take());
    return { records: PackedRecords.from(records), acks: batch.acks };
  }

  private spoolBatch(batch: QueuedBatch): void {
    // MQTT messages count as safe once spooled; file lines stay pending until delivered.
    const safeOnceSpooled = batch.acks.filter((a) => a.target.spoolIsSafe);
    const pendingAcks = batch.acks.filter((a) => !a.target.spoolIsSafe);
    this.spoolAppends++;
    this.counters.batchesSpooled++;
    this.deps.spool
      .append({ streamName: this.streamName, records: batch.records.toArray(), acks: pendingAcks })
      .then(
        () => {
          settleAll(safeOnceSpooled);
          this.spoolHasData = true;
        },
        (error: Error & { code?: string }) => {
          // The spool could not take it (disk full, closed): keep it in memory rather than lose it.
          this.noteError(error.code ?? 'SPOOL_WRITE_FAILED', error.message);
          this.memoryQueue.push(batch);
        },
      )
      .finally(() => {
        this.spoolAppends--;
        this.pump();
        this.drainSpool();
      });
  }

  /** The spool's `onFullChange`: a full spool (policy backpressure) pauses the source. */
  spoolFullChanged(full: boolean): void {
    this.setPause('spoolFull', full);
  }

  /** Starts sends from the memory queue up to the concurrency limit. */
  private pump(): void {
    while (!this.stopped && this.sending < this.deps.maxConcurrentSends && this.memoryQueue.length > 0) {
      const batch = this.memoryQueue.shift()!;
      if (this.memoryQueue.length < MEMORY_QUEUE_BATCHES) this.setPause('memoryFull', false);
      this.sending++;
      void this.deliver(batch).finally(() => {
        this.sending--;
        this.pump();
        this.notifyIfIdle();
      });
    }
    this.notifyIfIdle();
  }

  /** Delivers spooled batches one at a time, oldest first, while nothing newer waits in memory. */
  private drainSpool(): void {
    if (this.spoolDraining || this.stopped || !this.spoolHasData) return;
    this.spoolDraining = true;
    void (async () => {
      try {
        for (;;) {
          if (this.stopped) break;
          const spooled = await this.deps.spool.peek();
          if (!spooled) {
            this.spoolHasData = this.spoolAppends > 0;
            break;
          }
          const records = PackedRecords.from(spooled.records).withPartitionKeys((data) => this.partitionKeyFor(data));
          await this.deliver({ records, acks: spooled.acks, fromSpool: spooled });
        }
      } catch (error) {
        this.noteError('SPOOL_READ_FAILED', (error as Error).message);
      } finally {
        this.spoolDraining = false;
        this.notifyIfIdle();
      }
    })();
  }

  /** Sends a batch until every record is accepted or refused for good; then settles its acks. */
  private async deliver(batch: QueuedBatch): Promise<void> {
    let pending = batch.records;
    while (pending.length > 0) {
      const pace = this.backoff.delayBeforeSend();
      if (pace > 0) await sleep(pace);
      const outcomes = await this.deps.sink.send(this.streamName, pending);
      const retry: number[] = [];
      let throttled = false;
      outcomes.forEach((outcome: SendOutcome, i) => {
        if (outcome.kind === 'ok') this.counters.recordsSent++;
        else if (outcome.kind === 'error') {
          this.counters.recordsFailed++;
          this.noteError(outcome.code, outcome.message);
        } else {
          retry.push(i);
          throttled ||= outcome.throttled;
          this.noteError(outcome.code, outcome.message);
        }
      });
      if (retry.length === 0) {
        this.backoff.succeeded();
        this.failing = false;
        break;
      }
      this.counters.retries += retry.length;
      if (!this.failing) {
        this.failing = true;
        this.spillMemoryQueue();
      }
      if (this.stopped) return; // shutting down: the batch stays where it is (spool or source) for next time
      await sleep(this.backoff.failed(throttled));
      pending = pending.select(retry);
    }
    if (batch.fromSpool) await this.deps.spool.ack(batch.fromSpool);
    settleAll(batch.acks);
  }

  private noteError(code: string, message: string): void {
    const atMs = this.deps.clock.now();
    if (this.lastError?.code !== code) this.deps.log('flow_error', { flow: this.id, code, message });
    this.lastError = { code, message, atMs };
  }

  private notifyIfIdle(): void {
    if (this.sending === 0 && this.memoryQueue.length === 0 && this.spoolAppends === 0 && !this.spoolDraining) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Shutdown: flush the batcher, then wait for sends to finish until `deadlineMs`; what is still
   * queued in memory goes to the spool so nothing the sources handed over is lost.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.batcher.flush();
    const idle = new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.notifyIfIdle();
    });
    await Promise.race([idle, sleep(timeoutMs)]);
    this.stopped = true;
    const leftovers = this.memoryQueue.splice(0);
    await Promise.all(
      leftovers.map((batch) =>
        this.deps.spool.append({ streamName: this.streamName, records: batch.records.toArray(), acks: [] }).then(() => settleAll(batch.acks.filter((a) => a.target.spoolIsSafe))),
      ),
    );
    await this.deps.spool.sync();
  }

  status(): FlowStatus {
    const target = this.deps.config.destination.kind === 'kinesis' ? `kinesis:${this.streamName}` : `firehose:${this.streamName}`;
    return {
      id: this.id,
      target,
      ...this.counters,
      recordsDropped: this.counters.recordsDropped + this.deps.spool.stats().droppedRecords,
      queuedBatches: this.memoryQueue.length,
      sending: this.sending,
      spoolBytes: this.deps.spool.stats().bytes,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

