/**
 * Shard leases and checkpoints of consumer applications (the Riffle consumer library's lease
 * table; the KCL keeps the same in DynamoDB).
 *
 * Invariants
 * - One lease per (application, stream, shard). Every change bumps `counter`, and a change
 *   names the counter it expects: two workers racing for a shard cannot both win — the loser
 *   sees ConditionalCheckFailedException and reads again.
 * - A change is decided synchronously against the in-memory table, then written to level with
 *   `sync: true` before it is acknowledged; if the write fails, memory is rolled back. Writes of
 *   one lease are chained, so level never sees them out of order.
 * - `updatedMs` is the collector's clock: workers judge a lease expired by how long ago it was
 *   last changed (`millisSinceUpdate`), so their own clocks never matter.
 *
 * On disk: `lease!<application>!<stream>!<shardId>` → Lease JSON in the metadata store.
 */
import type { Clock } from '../../shared/clock.js';
import { AwsError } from '../../shared/errors.js';
import type { MetadataStore } from './metadata.js';

/** A checkpoint that says the shard was read to its end (its children may start). */
export const SHARD_END = 'SHARD_END';

export interface Lease {
  application: string;
  streamName: string;
  shardId: string;
  /** The worker holding the lease; absent when nobody does. */
  owner?: string;
  counter: number;
  /** The sequence number processed last, or SHARD_END. */
  checkpoint?: string;
  parentShardIds: string[];
  updatedMs: number;
}

export interface LeaseChange {
  /** A worker id takes (or keeps) the lease; null releases it. */
  owner?: string | null;
  checkpoint?: string;
}

const keyOf = (application: string, streamName: string, shardId: string): string => `${application}!${streamName}!${shardId}`;

export class LeaseTable {
  private readonly leases = new Map<string, Lease>();
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {}

  static async open(metadata: MetadataStore, clock: Clock): Promise<LeaseTable> {
    const table = new LeaseTable(metadata, clock);
    for (const value of await metadata.loadLeases()) {
      const lease = JSON.parse(value) as Lease;
      table.leases.set(keyOf(lease.application, lease.streamName, lease.shardId), lease);
    }
    return table;
  }

  list(application: string, streamName: string): Lease[] {
    return [...this.leases.values()].filter((l) => l.application === application && l.streamName === streamName).sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
  }

  /** Creates the lease of a shard unless it exists; either way returns the current lease. */
  async create(application: string, streamName: string, shardId: string, parentShardIds: string[]): Promise<Lease> {
    const key = keyOf(application, streamName, shardId);
    const existing = this.leases.get(key);
    if (existing) return existing;
    const lease: Lease = { application, streamName, shardId, counter: 0, parentShardIds, updatedMs: this.clock.now() };
    await this.write(key, undefined, lease);
    return lease;
  }

  /** Applies `change` if the lease's counter is still `expectedCounter`; ConditionalCheckFailedException otherwise. */
  async update(application: string, streamName: string, shardId: string, expectedCounter: number, change: LeaseChange): Promise<Lease> {
    const key = keyOf(application, streamName, shardId);
    const current = this.leases.get(key);
    if (!current) throw new AwsError('ResourceNotFoundException', `No lease for shard ${shardId} of stream ${streamName} in application ${application}.`);
    if (current.counter !== expectedCounter) {
      throw new AwsError('ConditionalCheckFailedException', `Lease of ${shardId} is at counter ${current.counter}, not ${expectedCounter}.`);
    }
    const next: Lease = { ...current, counter: current.counter + 1, updatedMs: this.clock.now() };
    if (change.owner === null) delete next.owner;
    else if (change.owner !== undefined) next.owner = change.owner;
    if (change.checkpoint !== undefined) next.checkpoint = change.checkpoint;
    await this.write(key, current, next);
    return next;
  }

  /** Forgets every lease of a deleted stream. */
  async forgetStream(streamName: string): Promise<void> {
    const keys = [...this.leases.values()].filter((l) => l.streamName === streamName).map((l) => keyOf(l.application, l.streamName, l.shardId));
    for (const key of keys) this.leases.delete(key);
    if (keys.length > 0) await this.metadata.deleteLeases(keys);
  }

  private async write(key: string, previous: Lease | undefined, next: Lease): Promise<void> {
    this.leases.set(key, next);
    const write = (this.writes.get(key) ?? Promise.resolve()).then(() => this.metadata.saveLease(key, JSON.stringify(next)));
    const settled = write.catch(() => undefined);
    this.writes.set(key, settled);
    void settled.then(() => {
      if (this.writes.get(key) === settled) this.writes.delete(key);
    });
    try {
      await write;
    } catch (error) {
      if (this.leases.get(key) === next) {
        if (previous) this.leases.set(key, previous);
        else this.leases.delete(key);
      }
      throw error;
    }
  }
}
