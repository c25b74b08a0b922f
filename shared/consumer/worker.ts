/**
 * ConsumerWorker — one member of a consumer application (the project's KCL).
 *
 * Every `leaseDurationMs / 3` a worker: creates leases for shards that have none (with their
 * parents), renews the leases it holds, and balances — it takes free or expired leases (owner
 * silent for longer than `leaseDurationMs`, on the collector's clock) until it holds its share,
 * `ceil(processable leases / live workers)`, and, when none is free, steals one lease from the
 * busiest worker holding more than its share. Takes are conditional on the lease counter, so two
 * workers never both hold a shard; a worker that loses a lease stops reading that shard.
 *
 * A lease is processable when its shard is not finished (checkpoint SHARD_END) and every parent
 * shard is: children of a reshard wait for their parents.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConsumerApi, ConsumerApiError, type ConnectionOptions, type WireLease } from './api-client.js';
import { HeldLease, LeaseLostError, SHARD_END } from './held-lease.js';
import type { RecordProcessor } from './processor.js';
import { FanOutSource } from './fan-out-source.js';
import { MIN_GET_RECORDS_SPACING_MS, PollingSource } from './polling-source.js';
import type { RecordSource } from './record-source.js';
import { ShardConsumer, startPositionOf, type InitialPosition } from './shard-consumer.js';

export interface WorkerOptions extends ConnectionOptions {
  /** Names the lease table: workers of one application share the shards; other applications read independently. */
  applicationName: string;
  streamName: string;
  /** Makes one processor per shard lease taken. */
  processorFactory: (shardId: string) => RecordProcessor;
  /** Unique per worker. Default: host, pid and random bytes. */
  workerId?: string;
  /**
   * `polling` (default): GetRecords, at most 5 calls/s per shard. `fan-out`: enhanced fan-out —
   * the worker registers the consumer `consumerName` (default: the application name) and
   * subscribes to each shard it holds, getting records pushed (2 MiB/s per shard of its own).
   */
  readMode?: 'polling' | 'fan-out';
  consumerName?: string;
  /** Where shards without a checkpoint start. Default TRIM_HORIZON. */
  initialPosition?: InitialPosition;
  /** A lease not renewed for this long may be taken over. Default 10 s (the KCL's failoverTimeMillis). */
  leaseDurationMs?: number;
  /** GetRecords spacing once caught up; at least 200 ms (5 calls/s/shard). Default 1 s (the KCL's idleTimeBetweenReadsInMillis). */
  pollIntervalMs?: number;
  /** GetRecords Limit. Default 10,000 (the Kinesis maximum). */
  maxRecords?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

const DEFAULT_LEASE_DURATION_MS = 10_000;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
const DEFAULT_MAX_RECORDS = 10_000;

interface Held {
  lease: HeldLease;
  consumer: ShardConsumer;
}

export class ConsumerWorker {
  readonly workerId: string;
  private readonly api: ConsumerApi;
  private readonly held = new Map<string, Held>();
  private readonly leaseDurationMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: NonNullable<WorkerOptions['log']>;
  /** With readMode fan-out: the registered consumer's ARN. */
  private consumerArn: string | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.api = new ConsumerApi(options);
    this.leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.log = options.log ?? (() => undefined);
  }

  /** Starts coordinating; returns after the first round of lease taking. */
  async start(): Promise<void> {
    if (this.options.readMode === 'fan-out') {
      this.consumerArn = await this.api.activeStreamConsumer(this.options.streamName, this.options.consumerName ?? this.options.applicationName);
    }
    await this.tick();
    this.schedule();
  }

  /** Shards this worker reads now. */
  heldShards(): string[] {
    return [...this.held.keys()].sort();
  }

  /** Graceful shutdown: every processor hears shutdownRequested, the last delivered records are checkpointed, leases are released. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.all(
      [...this.held.values()].map(async ({ lease, consumer }) => {
        const end = await consumer.shutdown().catch((error) => this.log('shard_consumer_failed', { shardId: lease.shardId, error: String(error) }));
        if (end === 'shutdown') await lease.release().catch(() => undefined);
      }),
    );
    this.held.clear();
    this.api.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().catch((error) => this.log('lease_round_failed', { error: String(error) }));
      void this.ticking.then(() => this.schedule());
    }, Math.max(MIN_GET_RECORDS_SPACING_MS, Math.floor(this.leaseDurationMs / 3)));
  }

  private async tick(): Promise<void> {
    const { applicationName, streamName } = this.options;
    await this.renewHeld();
    let leases = await this.api.listLeases(applicationName, streamName);
    if (await this.createMissingLeases(leases)) leases = await this.api.listLeases(applicationName, streamName);
    if (this.stopped) return;
    for (const lease of this.leasesToTake(leases)) {
      if (this.stopped) return;
      try {
        const taken = await this.api.updateLease(applicationName, streamName, lease.ShardId, lease.LeaseCounter, { owner: this.workerId });
        this.startConsumer(new HeldLease(this.api, applicationName, streamName, this.workerId, taken));
        this.log('lease_taken', { workerId: this.workerId, shardId: lease.ShardId, from: lease.LeaseOwner ?? null });
      } catch (error) {
        if (!(error instanceof ConsumerApiError && error.code === 'ConditionalCheckFailedException')) throw error;
      }
    }
  }

  private async renewHeld(): Promise<void> {
    for (const [shardId, { lease, consumer }] of [...this.held]) {
      try {
        await lease.renew();
      } catch (error) {
        if (!(error instanceof LeaseLostError)) {
          this.log('lease_renew_failed', { shardId, error: String(error) });
          continue;
        }
        this.log('lease_lost', { workerId: this.workerId, shardId });
        this.held.delete(shardId);
        void consumer.leaseLost();
      }
    }
  }

  /** Leases for shards that have none; true when it made any. */
  private async createMissingLeases(leases: WireLease[]): Promise<boolean> {
    const known = new Set(leases.map((l) => l.ShardId));
    let created = false;
    for (const shard of await this.api.listShards(this.options.streamName)) {
      if (known.has(shard.ShardId)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined);
      await this.api.createLease(this.options.applicationName, this.options.streamName, shard.ShardId, parents);
      created = true;
    }
    return created;
  }

  /** The balancing decision (see the header). */
  private leasesToTake(leases: WireLease[]): WireLease[] {
    const byShard = new Map(leases.map((l) => [l.ShardId, l]));
    const finished = (shardId: string) => {
      const lease = byShard.get(shardId);
      return lease === undefined || lease.Checkpoint === SHARD_END;
    };
    const processable = leases.filter((l) => l.Checkpoint !== SHARD_END && l.ParentShardIds.every(finished));
    const expired = (l: WireLease) => l.LeaseOwner === undefined || (l.LeaseOwner !== this.workerId && l.MillisSinceUpdate > this.leaseDurationMs);
    const perOwner = new Map<string, WireLease[]>([[this.workerId, []]]);
    for (const lease of processable) {
      if (expired(lease) || lease.LeaseOwner === undefined) continue;
      const owned = perOwner.get(lease.LeaseOwner) ?? [];
      owned.push(lease);
      perOwner.set(lease.LeaseOwner, owned);
    }
    const target = Math.ceil(processable.length / perOwner.size);
    const mine = this.held.size;
    if (mine >= target) return [];
    const free = shuffle(processable.filter((l) => expired(l) && !this.held.has(l.ShardId)));
    if (free.length > 0) return free.slice(0, target - mine);
    // Nothing free: steal one lease from the busiest worker above its share.
    let busiest: WireLease[] = [];
    for (const [owner, owned] of perOwner) if (owner !== this.workerId && owned.length > busiest.length) busiest = owned;
    return busiest.length > target ? shuffle(busiest).slice(0, 1) : [];
  }

  private startConsumer(lease: HeldLease): void {
    const consumer = new ShardConsumer({ lease, source: this.recordSource(lease), processor: this.options.processorFactory(lease.shardId), log: this.log });
    this.held.set(lease.shardId, { lease, consumer });
    consumer.done.then(
      async (end) => {
        if (this.held.get(lease.shardId)?.consumer !== consumer) return;
        if (end === 'shard-end') {
          this.held.delete(lease.shardId);
          await lease.release().catch(() => undefined);
          this.log('shard_finished', { workerId: this.workerId, shardId: lease.shardId });
        } else if (end === 'lease-lost') {
          this.held.delete(lease.shardId);
        }
      },
      (error) => {
        this.log('shard_consumer_failed', { shardId: lease.shardId, error: String(error) });
        if (this.held.get(lease.shardId)?.consumer === consumer) this.held.delete(lease.shardId);
        void lease.release().catch(() => undefined);
      },
    );
  }

  private recordSource(lease: HeldLease): RecordSource {
    const startPosition = startPositionOf(lease, this.options.initialPosition ?? 'TRIM_HORIZON');
    if (this.consumerArn !== undefined) return new FanOutSource({ api: this.api, consumerArn: this.consumerArn, shardId: lease.shardId, startPosition });
    return new PollingSource({
      api: this.api,
      streamName: this.options.streamName,
      shardId: lease.shardId,
      startPosition,
      pollIntervalMs: Math.max(MIN_GET_RECORDS_SPACING_MS, this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS),
      maxRecords: this.options.maxRecords ?? DEFAULT_MAX_RECORDS,
    });
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
