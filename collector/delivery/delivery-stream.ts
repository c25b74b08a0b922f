/**
 * The delivery engine of one delivery stream: buffer log → buffering → processing → destination
 * → checkpoint.
 *
 * Invariants
 * - A record is in the buffer log (a ShardLog: synchronously written, CRC-framed segments under
 *   `<data-dir>/delivery/<name>/buffer/`) before PutRecord/PutRecordBatch acknowledges it.
 * - The checkpoint (`bufferOrdinal` in delivery metadata) moves past a batch only after the
 *   destination — or the error output — durably has every record of it. After a crash the
 *   engine starts again at the checkpoint, so every acknowledged record is delivered at least
 *   once; only the batch in flight can be delivered twice.
 * - One batch is in flight at a time, in ordinal order.
 * - Buffer segments wholly below the checkpoint are deleted.
 *
 * Buffering: a batch is due when the undelivered records reach SizeInMBs or the oldest of them
 * arrived IntervalInSeconds ago (0 s: at once). Time comes from the injected clock; `step()`
 * does one unit of work, so tests drive the engine by hand with a ManualClock.
 */
import type { Clock } from '../../shared/clock.js';
import { Backoff } from '../../shared/backoff.js';
import type { Logger } from '../../shared/log.js';
import type { ShardLog, StoredRecord } from '../store/shard-log.js';
import { DeliveryFailure, type DeliveryRecord, type Destination } from './destinations/destination.js';
import { failedRecord } from './error-records.js';
import type { DeliveryMetadataStore } from './metadata.js';
import { processRecords, type ProcessingContext } from './processors/index.js';

export interface DeliveryEngineOptions {
  name: string;
  log: ShardLog;
  metadata: DeliveryMetadataStore;
  clock: Clock;
  logger: Logger;
  /** What processors need besides the clock: the stream's ARN and region, where functions live. */
  processing: Omit<ProcessingContext, 'clock' | 'deliveryStreamName'>;
  /** The destination for the current configuration version (rebuilt by the caller on UpdateDestination). */
  destination(): Destination;
  /** Called after the checkpoint passed a batch. */
  onDelivered?: (batch: { records: number; bytes: number; oldestArrivalMs: number }) => void;
  /** How long to wait, in real time, between retries and for the next deadline. */
  sleep?: (ms: number) => Promise<void>;
  /** Retry pacing; S3-style destinations retry with 100 ms – 10 s full-jitter backoff. */
  backoff?: Backoff;
}

/** Records read from the buffer log per read; enough to fill any buffer without rereading much. */
const READ_BATCH_RECORDS = 10_000;

class EngineStopping extends Error {}

export type StepResult = { delivered: number } | { idleUntilMs: number | undefined };

export class DeliveryEngine {
  private pending: StoredRecord[] = [];
  private pendingBytes = 0;
  /** Next buffer ordinal to read into `pending`. */
  private readOrdinal = 0;
  private checkpointOrdinal = 0;
  private running = false;
  private stopping = false;
  /** Set by notify(); a notification during a step must not be lost while no one waits. */
  private notified = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly backoff: Backoff;
  private readonly sleep: (ms: number) => Promise<void>;

  private constructor(private readonly options: DeliveryEngineOptions) {
    this.backoff = options.backoff ?? new Backoff({ retryInitialBackoffMillis: 100, retryMaxBackoffMillis: 10_000 });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  static async open(options: DeliveryEngineOptions): Promise<DeliveryEngine> {
    const engine = new DeliveryEngine(options);
    const checkpoint = await options.metadata.loadCheckpoint(options.name);
    engine.checkpointOrdinal = Math.max(checkpoint.bufferOrdinal, options.log.firstOrdinal);
    engine.readOrdinal = engine.checkpointOrdinal;
    return engine;
  }

  /** Undelivered records in the buffer log (including those not yet read into memory). */
  get backlogRecords(): number {
    return this.options.log.committedOrdinal - this.checkpointOrdinal;
  }

  get deliveredOrdinal(): number {
    return this.checkpointOrdinal;
  }

  /** New records were appended: re-evaluate now instead of at the next deadline. */
  notify(): void {
    this.notified = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let result: StepResult;
      this.notified = false;
      try {
        result = await this.step();
      } catch (error) {
        if (error instanceof EngineStopping) return;
        // A failure outside delivery (reading the log, saving the checkpoint): log and try again later.
        this.options.logger('delivery-engine-error', { deliveryStream: this.options.name, error: String(error) });
        await this.sleep(this.backoff.failed(false));
        continue;
      }
      if ('delivered' in result || this.notified) continue;
      const waitMs = result.idleUntilMs === undefined ? undefined : Math.max(0, result.idleUntilMs - this.options.clock.now());
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (waitMs !== undefined) void this.sleep(waitMs).then(() => this.notify());
        if (!this.running) resolve();
      });
    }
  }

  /**
   * One unit of work: reads new records, and delivers one batch if one is due (with retries).
   * Returns how many records were delivered, or when the next batch falls due (undefined:
   * when more records arrive).
   */
  async step(): Promise<StepResult> {
    const destination = this.options.destination();
    const { sizeBytes, intervalMs } = destination.buffering;
    await this.fill(sizeBytes);
    const oldest = this.pending[0];
    if (!oldest) return { idleUntilMs: undefined };
    const dueMs = oldest.arrivalMs + intervalMs;
    if (this.pendingBytes < sizeBytes && this.options.clock.now() < dueMs) return { idleUntilMs: dueMs };
    // The batch leaves `pending` only once it is checkpointed: a step that throws (processing,
    // the checkpoint write) leaves it to be delivered again by the next step.
    const batch = this.nextBatch(sizeBytes);
    await this.deliverBatch(batch, destination);
    const nextOrdinal = batch[batch.length - 1]!.ordinal + 1;
    await this.options.metadata.saveCheckpoint(this.options.name, { bufferOrdinal: nextOrdinal });
    this.checkpointOrdinal = nextOrdinal;
    const bytes = batch.reduce((sum, record) => sum + record.data.length, 0);
    this.pending.splice(0, batch.length);
    this.pendingBytes -= bytes;
    this.options.onDelivered?.({ records: batch.length, bytes, oldestArrivalMs: batch[0]!.arrivalMs });
    await this.options.log.deleteBelow(nextOrdinal);
    return { delivered: batch.length };
  }

  private async fill(sizeBytes: number): Promise<void> {
    while (this.pendingBytes < sizeBytes && this.readOrdinal < this.options.log.committedOrdinal) {
      const records = await this.options.log.read(this.readOrdinal, READ_BATCH_RECORDS, sizeBytes - this.pendingBytes);
      if (records.length === 0) break;
      for (const record of records) {
        this.pending.push(record);
        this.pendingBytes += record.data.length;
      }
      this.readOrdinal = records[records.length - 1]!.ordinal + 1;
    }
  }

  /** The oldest records up to the size hint (at least one); they stay in `pending`. */
  private nextBatch(sizeBytes: number): StoredRecord[] {
    let count = 0;
    let bytes = 0;
    while (count < this.pending.length && (count === 0 || bytes + this.pending[count]!.data.length <= sizeBytes)) {
      bytes += this.pending[count]!.data.length;
      count++;
    }
    return this.pending.slice(0, count);
  }

  private async deliverBatch(batch: StoredRecord[], destination: Destination): Promise<void> {
    const { clock } = this.options;
    const input: DeliveryRecord[] = batch.map((record) => ({ id: String(record.ordinal), arrivalMs: record.arrivalMs, data: record.data }));
    if (destination.backupSource) await this.retry(() => destination.backupSource!(input));
    const processed = destination.processing ? await processRecords(destination.processing, input, { ...this.options.processing, clock, deliveryStreamName: this.options.name }) : { records: input, failed: [] };
    if (processed.failed.length > 0) await this.retry(() => destination.writeErrors({ type: 'processing-failed', records: processed.failed }));
    if (processed.records.length === 0) return;

    const firstAttemptMs = clock.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await destination.deliver(processed.records);
        this.backoff.succeeded();
        return;
      } catch (error) {
        const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure('InternalError', String((error as Error)?.message ?? error));
        this.options.logger('delivery-failed', { deliveryStream: this.options.name, code: failure.code, message: failure.message, attempts });
        const retryDurationMs = destination.retryDurationMs;
        const expired = retryDurationMs !== undefined && clock.now() - firstAttemptMs >= retryDurationMs;
        if (failure.permanent || expired) {
          const endingMs = clock.now();
          const failed = processed.records.map((record) => failedRecord(record, failure.code, failure.message, attempts, endingMs));
          await this.retry(() => destination.writeErrors({ type: destination.deliveryErrorType, records: failed }));
          return;
        }
        await this.pause(this.backoff.failed(false));
      }
    }
  }

  /** Waits before a retry; a stopping engine abandons the batch (it stays behind the checkpoint). */
  private async pause(ms: number): Promise<void> {
    if (this.stopping) throw new EngineStopping();
    await this.sleep(ms);
    if (this.stopping) throw new EngineStopping();
  }

  /** Error output writes retry until they succeed: they are the last place the records can go. */
  private async retry(work: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await work();
        this.backoff.succeeded();
        return;
      } catch (error) {
        this.options.logger('error-output-failed', { deliveryStream: this.options.name, error: String(error) });
        await this.pause(this.backoff.failed(false));
      }
    }
  }
}
