/** What an application implements: a KCL-style record processor, one per shard lease. */
import type { ConsumerRecord } from './records.js';

export interface Checkpointer {
  /**
   * Records that everything up to `sequenceNumber` (default: the last record of the batch being
   * processed) is done; a restarted or new owner resumes after it. With `subSequenceNumber`, only
   * the user records of that KPL aggregate up to it are done, and a successor resumes inside the
   * aggregate. Durable in the collector when it resolves. Throws LeaseLostError when another
   * worker has taken the shard.
   */
  checkpoint(sequenceNumber?: string, subSequenceNumber?: number): Promise<void>;
}

export interface RecordProcessor {
  /** Before the first batch; `checkpoint` is where processing resumes (undefined: the initial position). */
  initialize?(input: { shardId: string; checkpoint: string | undefined }): void | Promise<void>;
  /** A batch of records in shard order. Return when done with it; checkpoint when you like. */
  processRecords(records: ConsumerRecord[], checkpointer: Checkpointer): void | Promise<void>;
  /** The shard was read to its end (resharding). Its SHARD_END checkpoint is written after this returns. */
  shardEnded?(checkpointer: Checkpointer): void | Promise<void>;
  /** Another worker took the shard: no more checkpoints are possible. */
  leaseLost?(): void | Promise<void>;
  /** The worker is shutting down. The last batch delivered is checkpointed after this returns. */
  shutdownRequested?(checkpointer: Checkpointer): void | Promise<void>;
}
