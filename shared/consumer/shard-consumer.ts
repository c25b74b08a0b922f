/**
 * Reads one leased shard from a RecordSource and feeds its processor, in order, at least once.
 *
 * Invariants
 * - Starts after the lease's checkpoint, or at the initial position (children of a reshard:
 *   TRIM_HORIZON) when there is none; after a read failure the source starts again after the last
 *   record delivered.
 * - A batch is delivered once processRecords returned; graceful shutdown checkpoints the last
 *   delivered record, the end of a shard checkpoints SHARD_END — so a successor never skips a record.
 */
import { Backoff } from '../backoff.js';
import { ConsumerApiError } from './api-client.js';
import { LeaseLostError, SHARD_END, type HeldLease } from './held-lease.js';
import { MIN_GET_RECORDS_SPACING_MS } from './polling-source.js';
import type { Checkpointer, RecordProcessor } from './processor.js';
import { sleepUnlessAborted as sleep } from '../clock.js';
import type { RecordSource, ResumePoint } from './record-source.js';
import { toConsumerRecords } from './records.js';

export type InitialPosition = 'TRIM_HORIZON' | 'LATEST';

export interface ShardConsumerOptions {
  lease: HeldLease;
  source: RecordSource;
  processor: RecordProcessor;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export type ShardConsumerEnd = 'shard-end' | 'lease-lost' | 'shutdown';

/** Where a shard without a checkpoint starts: children of a reshard at their beginning, whatever the application's initial position. */
export function startPositionOf(lease: HeldLease, initialPosition: InitialPosition): InitialPosition {
  return lease.parentShardIds.length > 0 ? 'TRIM_HORIZON' : initialPosition;
}

export class ShardConsumer {
  private stopReason: 'shutdown' | 'lease-lost' | undefined;
  private readonly wakeUp = new AbortController();
  private lastDelivered: string | undefined;
  /** From a checkpoint inside a KPL aggregate: its user records up to `subSequenceNumber` are done. */
  private partlyDone: { sequenceNumber: string; subSequenceNumber: number } | undefined;
  readonly done: Promise<ShardConsumerEnd>;

  constructor(private readonly options: ShardConsumerOptions) {
    this.done = this.run().finally(() => options.source.close());
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
    const { lease, source, processor, log } = this.options;
    const backoff = new Backoff({ retryInitialBackoffMillis: MIN_GET_RECORDS_SPACING_MS, retryMaxBackoffMillis: 5_000 });
    const resumeAt = resumePointOf(lease.checkpoint);
    this.partlyDone = resumeAt.partlyDone;
    while (this.stopReason === undefined) {
      try {
        const from: ResumePoint | undefined = this.lastDelivered !== undefined ? { sequenceNumber: this.lastDelivered, inclusive: false } : resumeAt.from;
        const batch = await source.next(from, this.wakeUp.signal);
        backoff.succeeded();
        const last = batch.records[batch.records.length - 1];
        if (last) {
          const done = this.partlyDone;
          const records = toConsumerRecords(batch.records).filter((r) => !(done && r.sequenceNumber === done.sequenceNumber && r.subSequenceNumber <= done.subSequenceNumber));
          if (records.length > 0) await processor.processRecords(records, this.checkpointer(last.SequenceNumber));
          this.lastDelivered = last.SequenceNumber;
          this.partlyDone = undefined;
        }
        if (batch.shardEnded) return 'shard-end';
      } catch (error) {
        if (error instanceof LeaseLostError) return 'lease-lost';
        if (error instanceof ConsumerApiError && !error.retryable) throw error;
        log('shard_read_failed', { shardId: lease.shardId, error: String(error) });
        await sleep(backoff.failed(error instanceof ConsumerApiError && error.throttled), this.wakeUp.signal);
      }
      if (lease.lost) return 'lease-lost';
    }
    return this.stopReason;
  }

  private checkpointer(defaultSequenceNumber: string | undefined): Checkpointer {
    return {
      checkpoint: async (sequenceNumber, subSequenceNumber) => {
        const at = sequenceNumber ?? defaultSequenceNumber;
        if (at !== undefined) await this.options.lease.checkpointAt(subSequenceNumber === undefined ? at : `${at}${SUB_SEQUENCE_SEPARATOR}${subSequenceNumber}`);
      },
    };
  }
}

/** A checkpoint inside a KPL aggregate is stored as `<sequenceNumber>:<subSequenceNumber>`. */
const SUB_SEQUENCE_SEPARATOR = ':';

/** Where a checkpoint resumes: after its record, or at it when only part of its aggregate is done. SHARD_END never reaches a reader (such leases are not taken). */
function resumePointOf(checkpoint: string | undefined): { from?: ResumePoint; partlyDone?: { sequenceNumber: string; subSequenceNumber: number } } {
  if (checkpoint === undefined || checkpoint === SHARD_END) return {};
  const [sequenceNumber, sub] = checkpoint.split(SUB_SEQUENCE_SEPARATOR) as [string, string | undefined];
  if (sub === undefined) return { from: { sequenceNumber, inclusive: false } };
  return { from: { sequenceNumber, inclusive: true }, partlyDone: { sequenceNumber, subSequenceNumber: Number(sub) } };
}
