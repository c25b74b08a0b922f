/**
 * KinesisStreamAsSource: copies a Riffle stream's records into the delivery stream's buffer log,
 * through the StreamStore's read API in-process (GetShardIterator/GetRecords semantics, retention
 * and read throughput limits included).
 *
 * Invariants
 * - Per shard, the source checkpoint (`source!<name>` in delivery metadata) holds the last
 *   sequence number copied; it is written only after the buffer log has synced those records,
 *   so a crash re-copies at most the last read (at-least-once, like DirectPut).
 * - Shards are followed across splits and merges: a child is read only once every parent still
 *   in the stream is drained (SHARD_END), so records of one hash key stay in order.
 * - The starting position applies to shards without parents: TRIM_HORIZON, or LATEST as
 *   "from the moment delivery started" (AT_TIMESTAMP of DeliveryStartTimestamp), which stays
 *   right across restarts. Children always start at TRIM_HORIZON.
 * - Reading pauses while the delivery backlog is full, so a dead destination does not grow the
 *   buffer without bound (the stream itself keeps the data for its retention period).
 */
import type { Logger } from '../../../shared/log.js';
import { isAwsError } from '../../../shared/errors.js';
import type { ShardLog } from '../../store/shard-log.js';
import type { StreamStore } from '../../store/streams.js';
import { SHARD_END, type DeliveryMetadataStore, type SourceCheckpoint } from '../metadata.js';

export interface KinesisStreamSourceOptions {
  deliveryStreamName: string;
  streamStore: StreamStore;
  streamArn: string;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  deliveryStartMs: number;
  log: ShardLog;
  metadata: DeliveryMetadataStore;
  logger: Logger;
  /** Appended records: wake the delivery engine. */
  onAppended(bytes: number): void;
  /** True while the delivery backlog has no room. */
  backlogFull(): boolean;
  /** Pause between polls of the stream, ms. */
  pollIntervalMs?: number;
}

// Kinesis: 5 GetRecords calls per second per shard; polling every 250 ms stays inside it.
const DEFAULT_POLL_INTERVAL_MS = 250;
// GetRecords quota: 10,000 records per call.
const GET_RECORDS_LIMIT = 10_000;

export class KinesisStreamSource {
  private checkpoint: SourceCheckpoint = {};
  private readonly iterators = new Map<string, string>();
  private running = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: KinesisStreamSourceOptions) {}

  async start(): Promise<void> {
    this.checkpoint = await this.options.metadata.loadSourceCheckpoint(this.options.deliveryStreamName);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.options.backlogFull()) await this.pollOnce();
      } catch (error) {
        this.options.logger('kinesis-source-error', { deliveryStream: this.options.deliveryStreamName, error: String(error) });
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
      });
    }
  }

  /** One read of every shard that is due. */
  async pollOnce(): Promise<void> {
    const { streamStore } = this.options;
    const ref = { streamArn: this.options.streamArn };
    const views = streamStore.shardViews(ref);
    const present = new Set(views.map((view) => view.shardId));
    for (const view of views) {
      if (!this.running) return;
      if (this.checkpoint[view.shardId] === SHARD_END) continue;
      const parents = [view.parentShardId, view.adjacentParentShardId].filter((id): id is string => id !== undefined && present.has(id));
      if (parents.some((parent) => this.checkpoint[parent] !== SHARD_END)) continue;
      await this.readShard(view.shardId, parents.length > 0 || view.parentShardId !== undefined);
    }
  }

  private async readShard(shardId: string, isChild: boolean): Promise<void> {
    const { streamStore } = this.options;
    const ref = { streamArn: this.options.streamArn };
    let iterator = this.iterators.get(shardId);
    if (iterator === undefined) {
      const last = this.checkpoint[shardId];
      iterator =
        last !== undefined
          ? await streamStore.getShardIterator(ref, shardId, 'AFTER_SEQUENCE_NUMBER', last)
          : this.options.startingPosition === 'LATEST' && !isChild
            ? await streamStore.getShardIterator(ref, shardId, 'AT_TIMESTAMP', undefined, new Date(Math.min(this.options.deliveryStartMs, streamStore.now())))
            : await streamStore.getShardIterator(ref, shardId, 'TRIM_HORIZON');
    }
    let result;
    try {
      result = await streamStore.getRecords(iterator, GET_RECORDS_LIMIT);
    } catch (error) {
      this.iterators.delete(shardId);
      // Throttled or an expired iterator: try again at the next poll.
      if (isAwsError(error, 'ProvisionedThroughputExceededException') || isAwsError(error, 'ExpiredIteratorException')) return;
      throw error;
    }
    let changed = false;
    if (result.records.length > 0) {
      await this.options.log.append(result.records.map((record) => ({ partitionKey: '', data: record.data })), false);
      this.checkpoint[shardId] = result.records[result.records.length - 1]!.sequenceNumber;
      this.options.onAppended(result.records.reduce((sum, record) => sum + record.data.length, 0));
      changed = true;
    }
    if (result.nextIterator === undefined) {
      this.checkpoint[shardId] = SHARD_END;
      this.iterators.delete(shardId);
      changed = true;
    } else {
      this.iterators.set(shardId, result.nextIterator);
    }
    if (changed) await this.options.metadata.saveSourceCheckpoint(this.options.deliveryStreamName, this.checkpoint);
  }
}
