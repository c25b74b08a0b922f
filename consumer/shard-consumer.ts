/**
 * Reads one leased shard and feeds its processor, in order, at least once.
 *
 * Invariants
 * - Starts after the lease's checkpoint (AFTER_SEQUENCE_NUMBER), or at the initial position
 *   (children of a reshard: TRIM_HORIZON) when there is none.
 * - GetRecords at most 5 calls/s per shard (Kinesis quota: "Each shard can support up to five read
 *   transactions per second"); once caught up, one call per poll interval.
 * - A batch is delivered once processRecords returned; graceful shutdown checkpoints the last
 *   delivered record, the end of a shard checkpoints SHARD_END — so a successor never skips a record.
 */
import { Backoff } from '../shared/backoff.js';
import { ConsumerApiError, type ConsumerApi } from './api-client.js';
import { LeaseLostError, SHARD_END, type HeldLease } from './held-lease.js';
import type { Checkpointer, RecordProcessor } from './processor.js';
import { toConsumerRecords } from './records.js';

/** 5 GetRecords calls per second per shard (Kinesis quota) → at least 200 ms between calls. */
export const MIN_GET_RECORDS_SPACING_MS = 200;

export type InitialPosition = 'TRIM_HORIZON' | 'LATEST';

export interface ShardConsumerOptions {
  api: ConsumerApi;
  streamName: string;
  lease: HeldLease;
  processor: RecordProcessor;
  initialPosition: InitialPosition;
  /** Wait between GetRecords calls once caught up (≥ 200 ms). */
  pollIntervalMs: number;
  maxRecords: number;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export type ShardConsumerEnd = 'shard-end' | 'lease-lost' | 'shutdown';

export class ShardConsumer {
  private stopReason: 'shutdown' | 'lease-lost' | undefined;
  private readonly wakeUp = new AbortController();
  private lastDelivered: string | undefined;
  readonly done: Promise<ShardConsumerEnd>;

  constructor(private readonly options: ShardConsumerOptions) {
    this.done = this.run();
  }

  get shardId(): string {
    return this.options.lease.shardId;
  }

  /** Stops after the batch in flight; the processor hears shutdownRequested and the last delivered record is checkpointed. */
  shutdown(): Promise<ShardConsumerEnd> {
    this.stopReason ??= 'shutdown';
    this.wakeUp.abort();
    return this.done;
  }

  /** Stops after the batch in flight without checkpointing: another worker holds the shard now. */
  leaseLost(): Promise<ShardConsumerEnd> {
    this.stopReason = 'lease-lost';
    this.wakeUp.abort();
    return this.done;
  }

  private async run(): Promise<ShardConsumerEnd> {
    const { lease, processor } = this.options;
    try {
      await processor.initialize?.({ shardId: lease.shardId, checkpoint: lease.checkpoint });
      const end = await this.readUntilStopped();
      if (end === 'shard-end') {
        await processor.shardEnded?.(this.checkpointer(undefined));
        await lease.checkpointAt(SHARD_END);
        return 'shard-end';
      }
      if (end === 'shutdown') {
        await processor.shutdownRequested?.(this.checkpointer(this.lastDelivered));
        if (this.lastDelivered !== undefined && !lease.lost) await lease.checkpointAt(this.lastDelivered);
        return 'shutdown';
      }
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
    }
    await processor.leaseLost?.();
    return 'lease-lost';
  }

  private async readUntilStopped(): Promise<ShardConsumerEnd> {
    const { api, lease, log } = this.options;
    const backoff = new Backoff({ retryInitialBackoffMillis: MIN_GET_RECORDS_SPACING_MS, retryMaxBackoffMillis: 5_000 });
    let iterator: string | undefined;
    while (this.stopReason === undefined) {
      const startedMs = Date.now();
      let waitMs: number;
      try {
        iterator ??= await this.iteratorAfter(this.lastDelivered ?? lease.checkpoint);
        const output = await api.getRecords(iterator, this.options.maxRecords);
        backoff.succeeded();
        const records = toConsumerRecords(output.Records);
        const last = output.Records[output.Records.length - 1];
        if (records.length > 0) {
          await this.options.processor.processRecords(records, this.checkpointer(last?.SequenceNumber));
        }
        if (last) this.lastDelivered = last.SequenceNumber;
        if (output.NextShardIterator === undefined) return 'shard-end';
        iterator = output.NextShardIterator;
        const caughtUp = output.Records.length === 0 || output.MillisBehindLatest === 0;
        waitMs = (caughtUp ? this.options.pollIntervalMs : MIN_GET_RECORDS_SPACING_MS) - (Date.now() - startedMs);
      } catch (error) {
        if (error instanceof LeaseLostError) return 'lease-lost';
        if (error instanceof ConsumerApiError && error.code === 'ExpiredIteratorException') {
          iterator = undefined;
          continue;
        }
        if (error instanceof ConsumerApiError && !error.retryable) throw error;
        log('shard_read_failed', { shardId: lease.shardId, error: String(error) });
        waitMs = backoff.failed(error instanceof ConsumerApiError && error.throttled);
      }
      if (lease.lost) return 'lease-lost';
      if (waitMs > 0) await this.sleep(waitMs);
    }
    return this.stopReason;
  }

  private iteratorAfter(sequenceNumber: string | undefined): Promise<string> {
    const { api, streamName, lease } = this.options;
    if (sequenceNumber !== undefined) return api.shardIterator(streamName, lease.shardId, 'AFTER_SEQUENCE_NUMBER', sequenceNumber);
    // Children of a reshard start at their beginning, whatever the application's initial position.
    const position = lease.parentShardIds.length > 0 ? 'TRIM_HORIZON' : this.options.initialPosition;
    return api.shardIterator(streamName, lease.shardId, position);
  }

  private checkpointer(defaultSequenceNumber: string | undefined): Checkpointer {
    return {
      checkpoint: async (sequenceNumber) => {
        const at = sequenceNumber ?? defaultSequenceNumber;
        if (at !== undefined) await this.options.lease.checkpointAt(at);
      },
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.wakeUp.signal;
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}
