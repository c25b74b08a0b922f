/**
 * One event source mapping on one shard: reads batches, invokes the function, and moves the
 * mapping's checkpoint for the shard — Lambda's Kinesis poller semantics.
 *
 * Invariants
 * - In order per partition key: a batch goes out in up to ParallelizationFactor lanes by hash of
 *   the partition key, the next batch only after every lane of this one finished.
 * - The checkpoint moves past a batch only when each of its records succeeded, was filtered out,
 *   or went to the OnFailure destination (durably) — at least once, never skipped silently. With
 *   tumbling windows it moves only when a window closed, so a restart rebuilds the window's state.
 * - A failed batch is retried (ReportBatchItemFailures: from the lowest failed record on),
 *   bisected first when BisectBatchOnFunctionError is set (halves do not spend retries, as in
 *   Lambda), until MaximumRetryAttempts or MaximumRecordAgeInSeconds give up on it.
 * - Reads wait for the store's append notification, never poll; enhanced-fan-out reads, so the
 *   shard's GetRecords budget stays with other readers.
 */
import { randomUUID } from 'node:crypto';
import { Backoff } from '../../../shared/backoff.js';
import { sleepUnlessAborted } from '../../../shared/clock.js';
import { partitionKeyHash } from '../../../shared/hash-key.js';
import { SHARD_END } from '../../store/leases.js';
import type { StreamStore } from '../../store/streams.js';
import type { EventSourceMapping } from './config.js';
import { matchesAnyFilter } from './filter.js';
import type { FunctionInvoker, InvokeOutcome } from './invoker.js';
import { failureRecord, filterView, kinesisEventRecord, type FailureCondition, type LambdaSource, type StoredRecord } from './lambda-event.js';

export interface ShardCheckpoint {
  current: string | undefined;
  save(sequenceNumber: string): Promise<void>;
}

export interface ShardRunnerOptions {
  store: StreamStore;
  mapping: EventSourceMapping;
  source: LambdaSource;
  functionArn: string;
  /** One per lane (ParallelizationFactor). */
  invokers: FunctionInvoker[];
  checkpoint: ShardCheckpoint;
  sendToFailureDestination(record: Record<string, unknown>, event: unknown): Promise<void>;
  now(): number;
  signal: AbortSignal;
  log: (event: string, fields: Record<string, unknown>) => void;
}

interface Window {
  startMs: number;
  state: unknown;
  lastSequenceNumber?: string;
}

export class ShardRunner {
  private iterator: string | undefined;
  /** Records read but left for the next batch, which would have been over the payload limit. */
  private carried: StoredRecord[] = [];
  /** Whether the shard's end was reached while records were still carried. */
  private endReached = false;
  private window: Window | undefined;

  constructor(private readonly options: ShardRunnerOptions) {}

  /** Runs until the shard was processed to its end ('ended') or the signal aborts ('stopped'). */
  async run(): Promise<'ended' | 'stopped'> {
    const { store, mapping, source, checkpoint, signal } = this.options;
    const ref = { streamName: mapping.streamName };
    this.iterator =
      checkpoint.current !== undefined
        ? await store.getShardIterator(ref, source.shardId, 'AFTER_SEQUENCE_NUMBER', checkpoint.current)
        : await store.getShardIterator(ref, source.shardId, mapping.startingPosition, undefined, mapping.startingPositionTimestamp);
    while (!signal.aborted) {
      const { records, ended } = await this.nextBatch();
      if (signal.aborted) break;
      if (mapping.tumblingWindowInSeconds > 0) await this.processWindowed(records, ended);
      else if (records.length > 0) {
        await this.processBatch(records);
        // Stopped mid-batch: the batch is not done, so the checkpoint stays where it was.
        if (signal.aborted) break;
        await checkpoint.save(records[records.length - 1]!.sequenceNumber);
      }
      if (signal.aborted) break;
      if (ended) {
        await checkpoint.save(SHARD_END);
        return 'ended';
      }
    }
    return 'stopped';
  }

  /**
   * Up to BatchSize records and at most a 6 MB invocation payload, waiting up to
   * MaximumBatchingWindowInSeconds for a full batch once some arrived.
   */
  private async nextBatch(): Promise<{ records: StoredRecord[]; ended: boolean }> {
    const { store, mapping, source, signal } = this.options;
    const records: StoredRecord[] = [];
    let payloadBytes = 0;
    /** Takes records until the payload limit; true when the batch is full. */
    const take = (candidates: StoredRecord[]): boolean => {
      for (let i = 0; i < candidates.length; i++) {
        const bytes = eventRecordBytes(candidates[i]!);
        if (records.length > 0 && payloadBytes + bytes > MAX_PAYLOAD_BYTES) {
          this.carried = candidates.slice(i);
          return true;
        }
        records.push(candidates[i]!);
        payloadBytes += bytes;
      }
      return records.length >= mapping.batchSize;
    };
    const carried = this.carried;
    this.carried = [];
    if (take(carried) || this.carried.length > 0) return { records, ended: false };
    if (this.endReached) return { records, ended: true };
    let batchDeadlineMs: number | undefined;
    for (;;) {
      let wake!: () => void;
      const appended = new Promise<void>((resolve) => (wake = resolve));
      const unwatch = store.watchShard(mapping.streamName, source.shardId, wake);
      try {
        const result = await store.getRecords(this.iterator!, mapping.batchSize - records.length, { enhancedFanOut: true });
        const full = take(result.records);
        if (result.nextIterator === undefined) {
          this.endReached = true;
          return { records, ended: this.carried.length === 0 };
        }
        this.iterator = result.nextIterator;
        if (full) return { records, ended: false };
        if (!result.caughtUp) continue;
        const now = this.options.now();
        if (records.length > 0) {
          batchDeadlineMs ??= now + mapping.maximumBatchingWindowInSeconds * 1000;
          if (now >= batchDeadlineMs) return { records, ended: false };
        }
        // An open tumbling window closes on time even when no record comes.
        const windowEndMs = this.window ? this.window.startMs + mapping.tumblingWindowInSeconds * 1000 : undefined;
        if (records.length === 0 && windowEndMs !== undefined && now >= windowEndMs) return { records, ended: false };
        const wakeAt = Math.min(batchDeadlineMs ?? Infinity, windowEndMs ?? Infinity);
        await waitFor(appended, wakeAt === Infinity ? undefined : wakeAt - now, signal);
        if (signal.aborted) return { records, ended: false };
      } finally {
        unwatch();
      }
    }
  }

  /** Filters, drops what is too old, and delivers the rest in lanes. */
  private async processBatch(records: StoredRecord[], window?: Window, windowEndMs?: number): Promise<unknown> {
    const { mapping } = this.options;
    let wanted = records.filter((record) => matchesAnyFilter(mapping.filters, filterView(record)));
    wanted = await this.dropExpired(wanted);
    if (window) return wanted.length > 0 || windowEndMs !== undefined ? this.deliver(wanted, 0, window, windowEndMs) : window.state;
    // One lane (ParallelizationFactor 1, the default): no MD5 and BigInt per record to choose it.
    const lanes: StoredRecord[][] = mapping.parallelizationFactor === 1 ? [wanted] : Array.from({ length: mapping.parallelizationFactor }, () => []);
    if (lanes.length > 1) for (const record of wanted) lanes[Number(partitionKeyHash(record.partitionKey) % BigInt(lanes.length))]!.push(record);
    await Promise.all(lanes.map((lane, index) => (lane.length > 0 ? this.deliver(lane, index) : undefined)));
    return undefined;
  }

  /** Tumbling windows: records grouped by the window of their arrival; a window closes with a final invocation, then the checkpoint moves. */
  private async processWindowed(records: StoredRecord[], ended: boolean): Promise<void> {
    const windowMs = this.options.mapping.tumblingWindowInSeconds * 1000;
    let at = 0;
    while (at < records.length) {
      const startMs = Math.floor(records[at]!.arrivalMs / windowMs) * windowMs;
      if (this.window && this.window.startMs !== startMs) await this.closeWindow();
      this.window ??= { startMs, state: {} };
      let end = at;
      while (end < records.length && Math.floor(records[end]!.arrivalMs / windowMs) * windowMs === startMs) end++;
      const group = records.slice(at, end);
      const result = await this.processBatch(group, this.window);
      if (this.options.signal.aborted) return;
      this.window.state = stateOf(result, this.window.state);
      this.window.lastSequenceNumber = group[group.length - 1]!.sequenceNumber;
      at = end;
    }
    if (this.window && (ended || this.options.now() >= this.window.startMs + windowMs)) await this.closeWindow();
  }

  private async closeWindow(): Promise<void> {
    const window = this.window!;
    await this.processBatch([], window, window.startMs + this.options.mapping.tumblingWindowInSeconds * 1000);
    if (this.options.signal.aborted) return;
    this.window = undefined;
    if (window.lastSequenceNumber !== undefined) await this.options.checkpoint.save(window.lastSequenceNumber);
  }

  /** MaximumRecordAgeInSeconds: older records go to the failure destination instead of the function. */
  private async dropExpired(records: StoredRecord[]): Promise<StoredRecord[]> {
    const { mapping } = this.options;
    if (mapping.maximumRecordAgeInSeconds === -1) return records;
    const cutoff = this.options.now() - mapping.maximumRecordAgeInSeconds * 1000;
    const expired = records.filter((r) => r.arrivalMs < cutoff);
    if (expired.length > 0) await this.fail(expired, 'RecordAgeExceeded', 0, undefined);
    return records.filter((r) => r.arrivalMs >= cutoff);
  }

  /**
   * Invokes until the records are done; returns the function's last result (tumbling windows
   * carry its `state`). Gives up on them to the failure destination per the retry settings.
   */
  private async deliver(records: StoredRecord[], lane: number, window?: Window, windowEndMs?: number): Promise<unknown> {
    const { mapping, signal } = this.options;
    const backoff = new Backoff({ retryInitialBackoffMillis: 100, retryMaxBackoffMillis: 10_000 });
    let remaining = records;
    let invokes = 0;
    for (let retries = 0; ; retries++) {
      const event = this.event(remaining, window, windowEndMs);
      const outcome = await this.options.invokers[lane]!.invoke(event);
      invokes++;
      const failedFrom = this.firstFailed(remaining, outcome);
      if (failedFrom === undefined) return outcome.ok ? outcome.result : undefined;
      if (signal.aborted) return undefined;
      remaining = remaining.slice(failedFrom);
      this.options.log('function_failed', { mapping: mapping.name, shardId: this.options.source.shardId, records: remaining.length, ...(outcome.ok ? { reportedFailures: true } : { errorType: outcome.errorType, errorMessage: outcome.errorMessage }) });
      if (!outcome.ok && mapping.bisectBatchOnFunctionError && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        await this.deliver(remaining.slice(0, half), lane, window, windowEndMs);
        return this.deliver(remaining.slice(half), lane, window, windowEndMs);
      }
      if (mapping.maximumRetryAttempts !== -1 && retries >= mapping.maximumRetryAttempts) {
        await this.fail(remaining, 'RetryAttemptsExhausted', invokes, outcome.ok ? undefined : outcome);
        return undefined;
      }
      const live = await this.dropExpired(remaining);
      if (live.length === 0 && remaining.length > 0) return undefined;
      remaining = live;
      await sleepUnlessAborted(backoff.failed(false), signal);
    }
  }

  /** Undefined when the invocation succeeded for every record; else the index to retry from. */
  private firstFailed(records: StoredRecord[], outcome: InvokeOutcome): number | undefined {
    if (!outcome.ok) return 0;
    if (!this.options.mapping.reportBatchItemFailures || records.length === 0) return undefined;
    const failures = (outcome.result as { batchItemFailures?: Array<{ itemIdentifier?: unknown }> } | null)?.batchItemFailures;
    if (!Array.isArray(failures) || failures.length === 0) return undefined;
    // Lambda: a failure without a valid identifier fails the whole batch.
    let lowest: number | undefined;
    for (const failure of failures) {
      const index = records.findIndex((r) => r.sequenceNumber === failure?.itemIdentifier);
      if (index === -1) return 0;
      lowest = lowest === undefined ? index : Math.min(lowest, index);
    }
    return lowest;
  }

  private event(records: StoredRecord[], window?: Window, windowEndMs?: number): unknown {
    const { mapping, source } = this.options;
    const Records = records.map((r) => kinesisEventRecord(r, source));
    if (!window) return { Records };
    const endMs = window.startMs + mapping.tumblingWindowInSeconds * 1000;
    return {
      Records,
      window: { start: new Date(window.startMs).toISOString(), end: new Date(endMs).toISOString() },
      state: window.state,
      shardId: source.shardId,
      eventSourceARN: source.streamArn,
      isFinalInvokeForWindow: windowEndMs !== undefined,
      isWindowTerminatedEarly: false,
    };
  }

  private async fail(records: StoredRecord[], condition: FailureCondition, invokeCount: number, lastError: { errorType: string } | undefined): Promise<void> {
    const { mapping, source } = this.options;
    this.options.log('function_records_discarded', { mapping: mapping.name, shardId: source.shardId, condition, records: records.length, destination: mapping.onFailure ?? null });
    if (mapping.onFailure === undefined) return;
    const record = failureRecord({ records, source, functionArn: this.options.functionArn, condition, invokeCount, ...(lastError ? { lastError } : {}), requestId: randomUUID(), nowMs: this.options.now() });
    await this.options.sendToFailureDestination(record, { Records: records.map((r) => kinesisEventRecord(r, source)) });
  }
}

/** Lambda: "6 MB each for request and response" (synchronous invocation payload quota). */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room for a record's fixed event fields (eventID, eventSourceARN, …) beside its data and key. */
const EVENT_RECORD_OVERHEAD_BYTES = 512;

function eventRecordBytes(record: StoredRecord): number {
  return Math.ceil(record.data.length / 3) * 4 + Buffer.byteLength(record.partitionKey) + EVENT_RECORD_OVERHEAD_BYTES;
}

/** A tumbling-window function answers `{state}`; anything else keeps the state as it was. */
function stateOf(result: unknown, previous: unknown): unknown {
  return typeof result === 'object' && result !== null && 'state' in result ? (result as { state: unknown }).state : previous;
}

/** Resolves when `event` settles, after `ms` (undefined: no limit), or when `signal` aborts. */
function waitFor(event: Promise<unknown>, ms: number | undefined, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = ms === undefined ? undefined : setTimeout(done, Math.max(0, ms));
    function done(): void {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
    void event.then(done, done);
  });
}
