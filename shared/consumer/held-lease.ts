/**
 * A lease this worker holds. Every change (renewal, checkpoint, release) is a conditional
 * UpdateLease on the counter this worker saw last, one at a time; a failed condition means another
 * worker took the shard, after which the lease is `lost` and every later change throws LeaseLostError.
 */
import { ConsumerApiError, type ConsumerApi, type WireLease } from './api-client.js';

/** Checkpoint of a shard read to its end (collector/store/leases.ts SHARD_END). */
export const SHARD_END = 'SHARD_END';

export class LeaseLostError extends Error {
  constructor(shardId: string) {
    super(`the lease of ${shardId} was taken by another worker`);
    this.name = 'LeaseLostError';
  }
}

export class HeldLease {
  private counter: number;
  private queue: Promise<unknown> = Promise.resolve();
  lost = false;
  checkpoint: string | undefined;

  constructor(
    private readonly api: ConsumerApi,
    private readonly applicationName: string,
    private readonly streamName: string,
    readonly workerId: string,
    lease: WireLease,
  ) {
    this.counter = lease.LeaseCounter;
    this.checkpoint = lease.Checkpoint;
    this.shardId = lease.ShardId;
    this.parentShardIds = lease.ParentShardIds;
  }

  readonly shardId: string;
  readonly parentShardIds: string[];

  renew(): Promise<void> {
    return this.update({ owner: this.workerId });
  }

  async checkpointAt(sequenceNumber: string): Promise<void> {
    await this.update({ owner: this.workerId, checkpoint: sequenceNumber });
    this.checkpoint = sequenceNumber;
  }

  /** Gives the lease up (keeping its checkpoint) so another worker may take it at once. */
  release(): Promise<void> {
    return this.update({ release: true });
  }

  private update(change: { owner?: string; release?: boolean; checkpoint?: string }): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.lost) throw new LeaseLostError(this.shardId);
      try {
        const lease = await this.api.updateLease(this.applicationName, this.streamName, this.shardId, this.counter, change);
        this.counter = lease.LeaseCounter;
        if (change.release) this.lost = true;
      } catch (error) {
        if (error instanceof ConsumerApiError && error.code === 'ConditionalCheckFailedException') {
          this.lost = true;
          throw new LeaseLostError(this.shardId);
        }
        throw error;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
