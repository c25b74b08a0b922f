/**
 * Where a shard consumer gets its records: GetRecords polling or an enhanced fan-out subscription.
 * Either way `next(from)` answers the records from a resume point (undefined: the start
 * position), so after any failure a source starts again from what was delivered.
 */
import type { WireRecord } from './api-client.js';

export interface ShardBatch {
  records: WireRecord[];
  /** The shard was read to its end (it was split or merged). */
  shardEnded: boolean;
}

/** After a sequence number, or at it (to finish a KPL aggregate checkpointed part way). */
export interface ResumePoint {
  sequenceNumber: string;
  inclusive: boolean;
}

export interface RecordSource {
  next(from: ResumePoint | undefined, signal: AbortSignal): Promise<ShardBatch>;
  close(): void;
}

