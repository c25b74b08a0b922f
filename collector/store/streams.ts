/**
 * StreamStore — streams, their shards, routing, resharding and retention, over the metadata
 * store (level) and one ShardLog per shard.
 *
 * Invariants
 * - A stream's metadata (shards, lineage, status, tags, settings) changes in one synchronous
 *   level write; the in-memory routing table changes only after that write succeeded.
 * - A reshard seals the parent logs (no appends), drains their in-flight appends, records each
 *   parent's last ordinal as its ending sequence number, and only then routes to the children.
 *   Puts that raced the reshard and hit a sealed log are routed again.
 * - Shard logs open lazily on first use (startup does not scan every shard), one open per shard.
 *
 * On disk: `<data-dir>/meta/` (level) and `<data-dir>/streams/<name>-<createdMs>/<shardNumber>/`
 * (ShardLog segments). The creation time in the folder name keeps a re-created stream of the
 * same name from ever seeing the old one's records.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { AwsError } from '../../shared/errors.js';
import { hashKeyHex, partitionKeyHashHex, uniformRanges } from '../../shared/hash-key.js';
import { StreamMetrics } from '../metrics.js';
import { ConsumerRegistry } from './consumers.js';
import { LeaseTable } from './leases.js';
import { IteratorCodec, type IteratorPosition } from './iterators.js';
import { MetadataStore, type AccountSettings, type PendingUpdate, type ShardMeta, type StreamMeta, type StreamMode } from './metadata.js';
import { sequenceNumber, shardIdFor, ordinalForShard } from './sequence-number.js';
import { ShardLog, ShardLogClosedError, defaultShardLogOptions, type StoredRecord } from './shard-log.js';
import { ShardThroughput, type ShardLimitsSetting } from './throughput.js';

// Kinesis quotas and defaults (AWS Kinesis Data Streams quotas and limits page).
export const DEFAULT_RETENTION_HOURS = 24;
export const MAX_RETENTION_HOURS = 8760;
export const DEFAULT_MAX_RECORD_SIZE_KIB = 1024;
export const GET_RECORDS_MAX_BYTES = 10 * 1024 * 1024;
export const GET_RECORDS_MAX_RECORDS = 10_000;
/** ON_DEMAND streams start with 4 shards (Kinesis on-demand mode). */
export const ON_DEMAND_INITIAL_SHARDS = 4;
const MAX_TAGS_PER_STREAM = 50;

export interface StoreOptions {
  dataDir: string;
  clock: Clock;
  region: string;
  accountId: string;
  shardLimits: ShardLimitsSetting;
  /** How long CREATING / UPDATING / DELETING last before the change takes effect. */
  statusDelayMs: number;
  /** Account-wide open shard quota (DescribeLimits ShardLimit). */
  shardLimit: number;
  onDemandStreamCountLimit: number;
  segmentMaxBytes?: number;
  segmentMaxAgeMs?: number;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export interface StreamRef {
  streamName?: string;
  streamArn?: string;
}

export interface PutEntry {
  data: Buffer;
  /** A string, or its UTF-8 bytes (the fast PutRecords readers' views of the request body). */
  partitionKey: string | Buffer;
  explicitHashKey?: string;
}

/**
 * A record the store took. Its wire strings are made only when read: a CBOR PutRecords answer
 * writes them straight into its Buffer (writeShardId, writeSequenceNumber).
 */
export class StoredPut {
  constructor(
    readonly shardNumber: number,
    readonly ordinal: number,
    readonly encrypted: boolean,
  ) {}

  get shardId(): string {
    return shardIdFor(this.shardNumber);
  }

  get sequenceNumber(): string {
    return sequenceNumber(this.shardNumber, this.ordinal);
  }
}

export type PutResult = StoredPut | { errorCode: 'ProvisionedThroughputExceededException' | 'InternalFailure'; errorMessage: string };

export interface ShardView {
  meta: ShardMeta;
  shardId: string;
  parentShardId?: string;
  adjacentParentShardId?: string;
  startingSequenceNumber: string;
  endingSequenceNumber?: string;
}

export interface ReadResult {
  records: Array<StoredRecord & { sequenceNumber: string }>;
  nextIterator?: string;
  millisBehindLatest: number;
  /** Whether the read reached the shard's newest record (more may arrive later). */
  caughtUp: boolean;
  /** Data plus partition-key bytes of `records`: what a read budget is charged. */
  bytes: number;
  childShards?: Array<{ shardId: string; parentShards: string[]; startingHashKey: string; endingHashKey: string }>;
}

export type IteratorType = 'TRIM_HORIZON' | 'LATEST' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'AT_TIMESTAMP';

interface OpenShard {
  start: bigint;
  end: bigint;
  /** `start` and `end` as hashKeyHex, what routing compares. */
  startHex: string;
  endHex: string;
  shardNumber: number;
}

interface ShardRuntime {
  log?: Promise<ShardLog>;
  throughput: ShardThroughput;
  endingOrdinal?: number;
}

class StreamState {
  openShards: OpenShard[] = [];
  readonly shards = new Map<number, ShardRuntime>();
  /** Puts wait on this while a reshard switches routing. */
  barrier: Promise<void> | undefined;
  /** A pending status transition (CREATING → ACTIVE …). */
  timer: NodeJS.Timeout | undefined;
  /** Settles when the pending transition has been applied. */
  transition: Promise<void> = Promise.resolve();
  /** Metadata writes, one at a time: level may reorder concurrent puts of one key. */
  private saving: Promise<void> = Promise.resolve();

  /** Persists the stream's metadata as it is when the write runs, after earlier writes. */
  persist(metadata: MetadataStore): Promise<void> {
    const write = this.saving.then(() => metadata.saveStream(this.meta));
    this.saving = write.catch(() => undefined);
    return write;
  }

  constructor(
    public meta: StreamMeta,
    readonly dir: string,
  ) {}
}

export class StreamStore {
  private readonly streams = new Map<string, StreamState>();
  private readonly iterators: IteratorCodec;
  readonly metrics = new StreamMetrics();
  readonly consumers: ConsumerRegistry;
  /** Wakes subscribers of a shard (`<stream>/<shardId>`) when it gains records or closes. */
  private readonly shardWatchers = new Map<string, Set<() => void>>();
  private accountSettings: AccountSettings = {};
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: StoreOptions,
    private readonly metadata: MetadataStore,
    iteratorKey: Buffer,
    /** Leases and checkpoints of consumer applications (the Riffle-only lease operations). */
    readonly leases: LeaseTable,
  ) {
    this.iterators = new IteratorCodec(iteratorKey);
    this.consumers = new ConsumerRegistry(this, {
      region: options.region,
      accountId: options.accountId,
      statusDelayMs: options.statusDelayMs,
      now: () => options.clock.now(),
      log: options.log,
    });
  }

  static async open(options: StoreOptions): Promise<StreamStore> {
    await fsp.mkdir(join(options.dataDir, 'streams'), { recursive: true });
    const metadata = await MetadataStore.open(join(options.dataDir, 'meta'));
    const store = new StreamStore(options, metadata, await metadata.iteratorKey(), await LeaseTable.open(metadata, options.clock));
    store.accountSettings = await metadata.loadAccountSettings();
    for (const meta of await metadata.loadStreams()) {
      const state = new StreamState(meta, store.streamDir(meta));
      store.streams.set(meta.name, state);
      store.rebuildRouting(state);
      // A transition interrupted by a restart completes now.
      if (meta.status === 'DELETING') await store.finishDelete(state);
      else if (meta.status === 'UPDATING' && meta.pendingUpdate) await store.applyPendingUpdate(state, meta.pendingUpdate);
      else if (meta.status !== 'ACTIVE') {
        meta.status = 'ACTIVE';
        await metadata.saveStream(meta);
      }
    }
    await store.consumers.recover();
    return store;
  }

  get region(): string {
    return this.options.region;
  }

  get accountId(): string {
    return this.options.accountId;
  }

  /** Starts the background work: retention sweeps and ON_DEMAND shard splitting. */
  startBackgroundWork(intervalMs = 60_000): void {
    this.sweepTimer = setInterval(() => {
      void this.runMaintenance().catch((error) => this.options.log('maintenance_failed', { error: String(error) }));
    }, intervalMs);
    this.sweepTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.consumers.close();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const state of this.streams.values()) {
      if (state.timer) clearTimeout(state.timer);
      for (const runtime of state.shards.values()) if (runtime.log) await (await runtime.log).close();
    }
    await this.metadata.close();
  }

  // ---------------------------------------------------------------- addressing

  streamArn(name: string): string {
    return `arn:aws:kinesis:${this.options.region}:${this.options.accountId}:stream/${name}`;
  }

  /** The stream name a request addresses, by StreamName or StreamARN, for authorization and lookups. */
  nameOf(ref: StreamRef): string {
    if (ref.streamName !== undefined) {
      if (ref.streamArn !== undefined && ref.streamArn !== this.streamArn(ref.streamName)) {
        throw new AwsError('InvalidArgumentException', `StreamARN ${ref.streamArn} does not match StreamName ${ref.streamName}.`);
      }
      return ref.streamName;
    }
    if (ref.streamArn !== undefined) {
      const match = /^arn:aws[\w-]*:kinesis:([\w-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]+)$/.exec(ref.streamArn);
      if (!match) throw new AwsError('InvalidArgumentException', `Invalid StreamARN: ${ref.streamArn}`);
      if (match[1] !== this.options.region || match[2] !== this.options.accountId) {
        throw new AwsError('ResourceNotFoundException', `Stream ${match[3]} under account ${match[2]} not found.`);
      }
      return match[3]!;
    }
    throw new AwsError('InvalidArgumentException', 'Either StreamName or StreamARN must be provided.');
  }

  private stream(ref: StreamRef, options: { allowCreating?: boolean; allowDeleting?: boolean } = {}): StreamState {
    const name = this.nameOf(ref);
    const state = this.streams.get(name);
    if (!state || (state.meta.status === 'DELETING' && !options.allowDeleting) || (state.meta.status === 'CREATING' && !options.allowCreating)) {
      throw new AwsError('ResourceNotFoundException', `Stream ${name} under account ${this.options.accountId} not found.`);
    }
    return state;
  }

  private streamDir(meta: StreamMeta): string {
    return join(this.options.dataDir, 'streams', `${meta.name}-${meta.createdMs}`);
  }

  private runtime(state: StreamState, shardNumber: number): ShardRuntime {
    let runtime = state.shards.get(shardNumber);
    if (!runtime) {
      runtime = { throughput: new ShardThroughput(this.throughputMultiplier(), this.options.clock.now()) };
      state.shards.set(shardNumber, runtime);
    }
    return runtime;
  }

  /** The shard-limits multiplier, or undefined when enforcement is off. */
  throughputMultiplier(): number | undefined {
    return this.options.shardLimits.enabled ? this.options.shardLimits.multiplier : undefined;
  }

  private shardLog(state: StreamState, shardNumber: number): Promise<ShardLog> {
    const runtime = this.runtime(state, shardNumber);
    if (!runtime.log) {
      const meta = state.meta.shards.find((s) => s.shardNumber === shardNumber);
      runtime.log = ShardLog.open(join(state.dir, String(shardNumber)), {
        segmentMaxBytes: this.options.segmentMaxBytes ?? defaultShardLogOptions.segmentMaxBytes,
        segmentMaxAgeMs: this.options.segmentMaxAgeMs ?? defaultShardLogOptions.segmentMaxAgeMs,
        now: () => this.options.clock.now(),
      }).then((log) => {
        if (meta?.closedMs !== undefined) log.sealForAppends();
        return log;
      });
      runtime.log.catch(() => {
        runtime.log = undefined; // let the next call try again
      });
    }
    return runtime.log;
  }

  private rebuildRouting(state: StreamState): void {
    state.openShards = state.meta.shards
      .filter((s) => s.closedMs === undefined)
      .map((s) => {
        const [start, end] = [BigInt(s.startingHashKey), BigInt(s.endingHashKey)];
        return { start, end, startHex: hashKeyHex(start), endHex: hashKeyHex(end), shardNumber: s.shardNumber };
      })
      .sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  /** The open shard whose range holds `hashKey` (hashKeyHex form). */
  private route(state: StreamState, hashKey: string): number {
    const shards = state.openShards;
    let lo = 0;
    let hi = shards.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const shard = shards[mid]!;
      if (hashKey < shard.startHex) hi = mid - 1;
      else if (hashKey > shard.endHex) lo = mid + 1;
      else return shard.shardNumber;
    }
    throw new AwsError('InternalFailure', `no open shard covers hash key ${BigInt(`0x${hashKey}`)}`);
  }

  // ---------------------------------------------------------------- control plane

  openShardCount(): number {
    let count = 0;
    for (const state of this.streams.values()) count += state.openShards.length;
    return count;
  }

  onDemandStreamCount(): number {
    let count = 0;
    for (const state of this.streams.values()) if (state.meta.mode === 'ON_DEMAND') count++;
    return count;
  }

  get limits(): { shardLimit: number; onDemandStreamCountLimit: number } {
    return { shardLimit: this.options.shardLimit, onDemandStreamCountLimit: this.options.onDemandStreamCountLimit };
  }

  async createStream(input: { name: string; shardCount?: number; mode: StreamMode; tags?: Record<string, string>; warmThroughputMiBps?: number; maxRecordSizeKiB?: number }): Promise<void> {
    const shardCount = input.mode === 'ON_DEMAND' ? ON_DEMAND_INITIAL_SHARDS : input.shardCount;
    if (shardCount === undefined) {
      throw new AwsError('InvalidArgumentException', 'ShardCount is required for PROVISIONED streams.');
    }
    if (this.streams.has(input.name)) {
      throw new AwsError('ResourceInUseException', `Stream ${input.name} under account ${this.options.accountId} already exists.`);
    }
    if (input.mode === 'ON_DEMAND' && this.onDemandStreamCount() >= this.options.onDemandStreamCountLimit) {
      throw new AwsError('LimitExceededException', `This request would exceed the on-demand stream count limit of ${this.options.onDemandStreamCountLimit}.`);
    }
    const open = this.openShardCount();
    if (open + shardCount > this.options.shardLimit) {
      throw new AwsError(
        'LimitExceededException',
        `This request would exceed the shard limit for the account ${this.options.accountId} in ${this.options.region}. Current shard count for the account: ${open}. Limit: ${this.options.shardLimit}. Number of additional shards that would have resulted from this request: ${shardCount}. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.`,
      );
    }
    this.checkTagCount(input.name, input.tags ?? {}, {});
    const now = this.options.clock.now();
    const meta: StreamMeta = {
      name: input.name,
      createdMs: now,
      status: 'CREATING',
      mode: input.mode,
      retentionHours: DEFAULT_RETENTION_HOURS,
      shards: uniformRanges(shardCount).map((range, i) => ({
        shardNumber: i,
        startingHashKey: range.start.toString(),
        endingHashKey: range.end.toString(),
        createdMs: now,
      })),
      nextShardNumber: shardCount,
      tags: { ...(input.tags ?? {}) },
      encryption: { type: 'NONE' },
      enhancedMonitoring: [],
      maxRecordSizeKiB: input.maxRecordSizeKiB ?? DEFAULT_MAX_RECORD_SIZE_KIB,
      ...(input.mode === 'ON_DEMAND' ? { modeLastUpdatedMs: now } : {}),
      ...(input.warmThroughputMiBps !== undefined ? { warmThroughputMiBps: input.warmThroughputMiBps } : {}),
    };
    const state = new StreamState(meta, this.streamDir(meta));
    this.streams.set(meta.name, state);
    this.rebuildRouting(state);
    try {
      await state.persist(this.metadata);
    } catch (error) {
      this.streams.delete(meta.name);
      throw error;
    }
    this.afterDelay(state, async () => {
      state.meta.status = 'ACTIVE';
      await state.persist(this.metadata);
    });
  }

  async deleteStream(ref: StreamRef): Promise<void> {
    const state = this.stream(ref, { allowCreating: true });
    if (state.meta.status === 'CREATING') {
      throw new AwsError('ResourceInUseException', `Stream ${state.meta.name} under account ${this.options.accountId} not ACTIVE, instead in state CREATING`);
    }
    state.meta.status = 'DELETING';
    await state.persist(this.metadata);
    this.afterDelay(state, () => this.finishDelete(state));
  }

  private async finishDelete(state: StreamState): Promise<void> {
    for (const runtime of state.shards.values()) if (runtime.log) await (await runtime.log).destroy().catch(() => undefined);
    await fsp.rm(state.dir, { recursive: true, force: true });
    await this.metadata.deleteStream(state.meta.name);
    await this.leases.forgetStream(state.meta.name);
    if (this.streams.get(state.meta.name) === state) this.streams.delete(state.meta.name);
    this.metrics.forget(state.meta.name);
    for (const shard of state.meta.shards) this.notifyShard(state.meta.name, shard.shardNumber);
  }

  private afterDelay(state: StreamState, change: () => Promise<void>): void {
    let settle!: () => void;
    state.transition = new Promise<void>((resolve) => (settle = resolve));
    const run = () => {
      state.timer = undefined;
      if (this.closed) return settle();
      change()
        .catch((error) => this.options.log('status_change_failed', { stream: state.meta.name, error: String(error) }))
        .finally(settle);
    };
    if (this.options.statusDelayMs <= 0) {
      queueMicrotask(run);
      return;
    }
    state.timer = setTimeout(run, this.options.statusDelayMs);
    state.timer.unref();
  }

  /** Resolves once the stream's pending status change (if any) has taken effect. */
  async settled(ref: StreamRef): Promise<void> {
    const state = this.streams.get(this.nameOf(ref));
    if (state) await state.transition;
  }

  listStreamNames(): string[] {
    return [...this.streams.keys()].sort();
  }

  /** Every stream by name, DELETING ones included — what ListStreams shows. */
  listStreams(): StreamMeta[] {
    return this.listStreamNames().map((name) => this.streams.get(name)!.meta);
  }

  /** The store's clock, for answers that depend on time (trim horizons, pagination token expiry). */
  now(): number {
    return this.options.clock.now();
  }

  /** The stream metadata that the Describe and List operations show, in any status. */
  describe(ref: StreamRef): StreamMeta {
    return this.stream(ref, { allowCreating: true, allowDeleting: true }).meta;
  }

  /** The stream's metadata if it is ACTIVE; ResourceInUseException while it is CREATING or UPDATING, as control-plane changes answer. */
  describeActive(ref: StreamRef): StreamMeta {
    const state = this.stream(ref, { allowCreating: true });
    this.requireActive(state);
    return state.meta;
  }

  /** Shards as DescribeStream/ListShards show them, in shard-number order. */
  shardViews(ref: StreamRef): ShardView[] {
    const state = this.stream(ref, { allowCreating: true, allowDeleting: true });
    return [...state.meta.shards].sort((a, b) => a.shardNumber - b.shardNumber).map((meta) => this.shardView(meta));
  }

  private shardView(meta: ShardMeta): ShardView {
    const view: ShardView = {
      meta,
      shardId: shardIdFor(meta.shardNumber),
      startingSequenceNumber: sequenceNumber(meta.shardNumber, 0),
    };
    if (meta.parentShardNumber !== undefined) view.parentShardId = shardIdFor(meta.parentShardNumber);
    if (meta.adjacentParentShardNumber !== undefined) view.adjacentParentShardId = shardIdFor(meta.adjacentParentShardNumber);
    if (meta.closedMs !== undefined) view.endingSequenceNumber = sequenceNumber(meta.shardNumber, Math.max(0, meta.lastOrdinal ?? 0));
    return view;
  }

  private requireActive(state: StreamState): void {
    if (state.meta.status !== 'ACTIVE') {
      throw new AwsError(
        'ResourceInUseException',
        `Stream ${state.meta.name} under account ${this.options.accountId} not ACTIVE, instead in state ${state.meta.status}`,
      );
    }
  }

  async updateMeta(ref: StreamRef, change: (meta: StreamMeta) => void, options: { requireActive?: boolean } = {}): Promise<StreamMeta> {
    const state = this.stream(ref, { allowCreating: !options.requireActive });
    if (options.requireActive) this.requireActive(state);
    change(state.meta);
    await state.persist(this.metadata);
    return state.meta;
  }

  /**
   * A settings change AWS applies asynchronously (stream encryption, warm throughput): the stream
   * is UPDATING now; after the status delay `change` takes effect and the stream is ACTIVE again.
   */
  /** Stream settings that take effect after the UPDATING delay (encryption, warm throughput). */
  async updateSettingsAfterDelay(ref: StreamRef, settings: Omit<Extract<PendingUpdate, { kind: 'settings' }>, 'kind'>): Promise<void> {
    const state = this.stream(ref);
    this.requireActive(state);
    await this.beginUpdate(state, { kind: 'settings', ...settings });
  }

  async setRetention(ref: StreamRef, hours: number, direction: 'increase' | 'decrease'): Promise<void> {
    const state = this.stream(ref);
    this.requireActive(state);
    const current = state.meta.retentionHours;
    if (direction === 'increase' && hours < current) {
      throw new AwsError(
        'InvalidArgumentException',
        `Requested retention period (${hours} hours) for stream ${state.meta.name} can not be shorter than existing retention period (${current} hours). Use DecreaseRetentionPeriod API.`,
      );
    }
    if (direction === 'decrease' && hours > current) {
      throw new AwsError(
        'InvalidArgumentException',
        `Requested retention period (${hours} hours) for stream ${state.meta.name} can not be longer than existing retention period (${current} hours). Use IncreaseRetentionPeriod API.`,
      );
    }
    if (hours < DEFAULT_RETENTION_HOURS || hours > MAX_RETENTION_HOURS) {
      const bound = hours < DEFAULT_RETENTION_HOURS ? `shorter than minimum retention period (${DEFAULT_RETENTION_HOURS} hours)` : `longer than maximum retention period (${MAX_RETENTION_HOURS} hours)`;
      throw new AwsError('InvalidArgumentException', `Requested retention period (${hours} hours) for stream ${state.meta.name} can not be ${bound}.`);
    }
    await this.updateMeta(ref, (meta) => (meta.retentionHours = hours));
  }

  checkTagCount(streamName: string, adding: Record<string, string>, existing: Record<string, string>): void {
    const total = new Set([...Object.keys(existing), ...Object.keys(adding)]).size;
    if (total > MAX_TAGS_PER_STREAM) {
      // AWS answers InvalidArgumentException here (kinesalite recorded the wording).
      throw new AwsError(
        'InvalidArgumentException',
        `Failed to add tags to stream ${streamName} under account ${this.options.accountId} because a given stream cannot have more than ${MAX_TAGS_PER_STREAM} tags associated with it.`,
      );
    }
  }

  getAccountSettings(): AccountSettings {
    return this.accountSettings;
  }

  async setAccountSettings(settings: AccountSettings): Promise<void> {
    await this.metadata.saveAccountSettings(settings);
    this.accountSettings = settings;
  }

  // ---------------------------------------------------------------- resharding

  async splitShard(ref: StreamRef, shardId: string, newStartingHashKey: string): Promise<void> {
    const state = this.stream(ref);
    this.requireActive(state);
    const parent = this.openShardById(state, shardId);
    const splitAt = BigInt(newStartingHashKey);
    const start = BigInt(parent.startingHashKey);
    const end = BigInt(parent.endingHashKey);
    // AWS: NewStartingHashKey must be greater than StartingHashKey + 1 and less than EndingHashKey.
    if (splitAt <= start + 1n || splitAt >= end) {
      throw new AwsError(
        'InvalidArgumentException',
        `NewStartingHashKey ${newStartingHashKey} used in SplitShard() on shard ${shardId} in stream ${state.meta.name} under account ${this.options.accountId} is not both greater than one plus the shard's StartingHashKey ${start} and less than the shard's EndingHashKey ${end}.`,
      );
    }
    this.checkShardLimit(1);
    await this.beginUpdate(state, { kind: 'split', shardNumber: parent.shardNumber, newStartingHashKey: newStartingHashKey });
  }

  async mergeShards(ref: StreamRef, shardId: string, adjacentShardId: string): Promise<void> {
    const state = this.stream(ref);
    this.requireActive(state);
    const first = this.openShardById(state, shardId);
    const second = this.openShardById(state, adjacentShardId);
    const adjacent =
      BigInt(first.endingHashKey) + 1n === BigInt(second.startingHashKey) || BigInt(second.endingHashKey) + 1n === BigInt(first.startingHashKey);
    if (!adjacent) {
      throw new AwsError(
        'InvalidArgumentException',
        `Shards ${shardId} and ${adjacentShardId} in stream ${state.meta.name} under account ${this.options.accountId} are not an adjacent pair of shards eligible for merging`,
      );
    }
    await this.beginUpdate(state, { kind: 'merge', shardNumber: first.shardNumber, adjacentShardNumber: second.shardNumber });
  }

  /** UNIFORM_SCALING as AWS does it: splits and merges, so every new shard has real parents. */
  async updateShardCount(ref: StreamRef, targetCount: number): Promise<number> {
    const state = this.stream(ref);
    this.requireActive(state);
    // From the metadata, not the routing table: a reshard's routing is rebuilt only after its
    // ACTIVE status was persisted, and in between DescribeStreamSummary already shows the new shards.
    const current = state.meta.shards.filter((s) => s.closedMs === undefined).length;
    // UpdateShardCount quota: at most double, at least half the current open shard count.
    if (targetCount > current * 2 || targetCount * 2 < current) {
      throw new AwsError(
        'ValidationException',
        `UpdateShardCount request for stream ${state.meta.name} under account ${this.options.accountId} is invalid: TargetShardCount ${targetCount} must be between half and double the current open shard count (${current}).`,
      );
    }
    if (targetCount > current) this.checkShardLimit(targetCount - current);
    await this.beginUpdate(state, { kind: 'scale', targetShardCount: targetCount });
    return current;
  }

  /** `warmThroughputMiBps` applies to ON_DEMAND streams only; a stream leaving ON_DEMAND drops it. */
  async updateStreamMode(ref: StreamRef, mode: StreamMode, warmThroughputMiBps?: number): Promise<void> {
    const state = this.stream(ref);
    this.requireActive(state);
    if (mode === 'ON_DEMAND' && state.meta.mode !== 'ON_DEMAND' && this.onDemandStreamCount() >= this.options.onDemandStreamCountLimit) {
      throw new AwsError('LimitExceededException', `This request would exceed the on-demand stream count limit of ${this.options.onDemandStreamCountLimit}.`);
    }
    await this.beginUpdate(state, { kind: 'mode', mode, ...(warmThroughputMiBps !== undefined ? { warmThroughputMiBps } : {}) });
  }

  private checkShardLimit(additional: number): void {
    const open = this.openShardCount();
    if (open + additional > this.options.shardLimit) {
      throw new AwsError(
        'LimitExceededException',
        `This request would exceed the shard limit for the account ${this.options.accountId} in ${this.options.region}. Current shard count for the account: ${open}. Limit: ${this.options.shardLimit}. Number of additional shards that would have resulted from this request: ${additional}.`,
      );
    }
  }

  private openShardById(state: StreamState, shardId: string): ShardMeta {
    const shard = state.meta.shards.find((s) => shardIdFor(s.shardNumber) === shardId);
    if (!shard) {
      throw new AwsError('ResourceNotFoundException', `Could not find shard ${shardId} in stream ${state.meta.name} under account ${this.options.accountId}.`);
    }
    if (shard.closedMs !== undefined) {
      throw new AwsError('ResourceInUseException', `Shard ${shardId} in stream ${state.meta.name} under account ${this.options.accountId} has already been merged or split, and thus is not eligible for merging or splitting.`);
    }
    return shard;
  }

  /**
   * Marks the stream UPDATING with the change persisted beside the status; after the status
   * delay, applies it (see applyPendingUpdate) and goes ACTIVE.
   */
  private async beginUpdate(state: StreamState, update: PendingUpdate): Promise<void> {
    state.meta.status = 'UPDATING';
    state.meta.pendingUpdate = update;
    await state.persist(this.metadata);
    this.afterDelay(state, () => this.applyPendingUpdate(state, update));
  }

  /** Applies an update behind the put barrier (reshards edit state.meta in place and seal parents), persists, and goes ACTIVE. */
  private async applyPendingUpdate(state: StreamState, update: PendingUpdate): Promise<void> {
    let release!: () => void;
    state.barrier = new Promise<void>((resolve) => (release = resolve));
    try {
      switch (update.kind) {
        case 'split':
          await this.applySplit(state, update.shardNumber, BigInt(update.newStartingHashKey));
          break;
        case 'merge':
          await this.applyMerge(state, update.shardNumber, update.adjacentShardNumber);
          break;
        case 'scale':
          await this.applyScale(state, update.targetShardCount);
          break;
        case 'mode':
          state.meta.mode = update.mode;
          state.meta.modeLastUpdatedMs = this.options.clock.now();
          if (update.mode === 'ON_DEMAND' && update.warmThroughputMiBps !== undefined) state.meta.warmThroughputMiBps = update.warmThroughputMiBps;
          if (update.mode === 'PROVISIONED') delete state.meta.warmThroughputMiBps;
          break;
        case 'settings':
          if (update.encryption) state.meta.encryption = update.encryption;
          if (update.warmThroughputMiBps !== undefined) state.meta.warmThroughputMiBps = update.warmThroughputMiBps;
          break;
      }
      state.meta.status = 'ACTIVE';
      delete state.meta.pendingUpdate;
      await state.persist(this.metadata);
      this.rebuildRouting(state);
      // Subscribers of a shard that closed now read to its end and learn its children.
      for (const shard of state.meta.shards) if (shard.closedMs !== undefined) this.notifyShard(state.meta.name, shard.shardNumber);
    } finally {
      state.barrier = undefined;
      release();
    }
  }

  private async applyScale(state: StreamState, targetCount: number): Promise<void> {
    const boundaries = uniformRanges(targetCount).map((r) => r.start);
    // 1. Split every open shard at each target boundary strictly inside it.
    for (const boundary of boundaries) {
      const holder = state.meta.shards.find(
        (s) => s.closedMs === undefined && BigInt(s.startingHashKey) < boundary && boundary <= BigInt(s.endingHashKey),
      );
      if (holder) await this.applySplit(state, holder.shardNumber, boundary);
    }
    // 2. Merge the pieces inside each target range until one shard covers it.
    for (const range of uniformRanges(targetCount)) {
      for (;;) {
        const inside = state.meta.shards
          .filter((s) => s.closedMs === undefined && BigInt(s.startingHashKey) >= range.start && BigInt(s.endingHashKey) <= range.end)
          .sort((a, b) => (BigInt(a.startingHashKey) < BigInt(b.startingHashKey) ? -1 : 1));
        if (inside.length < 2) break;
        await this.applyMerge(state, inside[0]!.shardNumber, inside[1]!.shardNumber);
      }
    }
  }

  private async closeShard(state: StreamState, shardNumber: number): Promise<void> {
    const meta = state.meta.shards.find((s) => s.shardNumber === shardNumber)!;
    const log = await this.shardLog(state, shardNumber);
    log.sealForAppends();
    await log.close(); // drains in-flight appends, so the ending ordinal is final
    meta.closedMs = this.options.clock.now();
    meta.lastOrdinal = log.committedOrdinal - 1;
  }

  private async applySplit(state: StreamState, parentNumber: number, splitAt: bigint): Promise<void> {
    const parent = state.meta.shards.find((s) => s.shardNumber === parentNumber)!;
    await this.closeShard(state, parentNumber);
    const now = this.options.clock.now();
    for (const [start, end] of [
      [BigInt(parent.startingHashKey), splitAt - 1n],
      [splitAt, BigInt(parent.endingHashKey)],
    ] as const) {
      state.meta.shards.push({ shardNumber: state.meta.nextShardNumber++, startingHashKey: start.toString(), endingHashKey: end.toString(), parentShardNumber: parentNumber, createdMs: now });
    }
  }

  private async applyMerge(state: StreamState, firstNumber: number, secondNumber: number): Promise<void> {
    const first = state.meta.shards.find((s) => s.shardNumber === firstNumber)!;
    const second = state.meta.shards.find((s) => s.shardNumber === secondNumber)!;
    await this.closeShard(state, firstNumber);
    await this.closeShard(state, secondNumber);
    const [low, high] = BigInt(first.startingHashKey) < BigInt(second.startingHashKey) ? [first, second] : [second, first];
    state.meta.shards.push({
      shardNumber: state.meta.nextShardNumber++,
      startingHashKey: low.startingHashKey,
      endingHashKey: high.endingHashKey,
      parentShardNumber: firstNumber,
      adjacentParentShardNumber: secondNumber,
      createdMs: this.options.clock.now(),
    });
  }

  // ---------------------------------------------------------------- data plane

  maxRecordBytes(ref: StreamRef): number {
    return this.stream(ref).meta.maxRecordSizeKiB * 1024;
  }

  /** Appends records durably; results are per entry, in request order. */
  async putRecords(ref: StreamRef, entries: readonly PutEntry[]): Promise<PutResult[]> {
    const state = this.stream(ref);
    const results: PutResult[] = new Array(entries.length);
    let pendingIndexes = entries.map((_, i) => i);
    const hashKeys = entries.map((e) => (e.explicitHashKey !== undefined ? hashKeyHex(BigInt(e.explicitHashKey)) : partitionKeyHashHex(e.partitionKey)));
    const now = this.options.clock.now();
    let admitted = false;
    // Routing may race a reshard that seals a parent log; those entries are routed again.
    for (let attempt = 0; pendingIndexes.length > 0; attempt++) {
      while (state.barrier) await state.barrier;
      const groups = new Map<number, number[]>();
      for (const i of pendingIndexes) {
        const shardNumber = this.route(state, hashKeys[i]!);
        const entry = entries[i]!;
        if (!admitted) {
          const runtime = this.runtime(state, shardNumber);
          if (!runtime.throughput.admitWrite(entry.data.length + Buffer.byteLength(entry.partitionKey), now)) {
            results[i] = {
              errorCode: 'ProvisionedThroughputExceededException',
              errorMessage: `Rate exceeded for shard ${shardIdFor(shardNumber)} in stream ${state.meta.name} under account ${this.options.accountId}.`,
            };
            this.metrics.add(state.meta.name, 'WriteProvisionedThroughputExceeded', 1);
            continue;
          }
        }
        let group = groups.get(shardNumber);
        if (!group) groups.set(shardNumber, (group = []));
        group.push(i);
      }
      admitted = true;
      const encrypted = state.meta.encryption.type === 'KMS';
      const retry: number[] = [];
      await Promise.all(
        [...groups].map(async ([shardNumber, indexes]) => {
          try {
            const log = await this.shardLog(state, shardNumber);
            const first = await log.append(indexes.map((i) => entries[i]!), encrypted);
            indexes.forEach((entryIndex, k) => {
              results[entryIndex] = new StoredPut(shardNumber, first + k, encrypted);
            });
            this.notifyShard(state.meta.name, shardNumber);
          } catch (error) {
            if (error instanceof ShardLogClosedError && attempt < 10) {
              retry.push(...indexes);
              return;
            }
            this.options.log('append_failed', { stream: state.meta.name, shard: shardIdFor(shardNumber), error: String(error) });
            for (const i of indexes) results[i] = { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' };
          }
        }),
      );
      pendingIndexes = retry.sort((a, b) => a - b);
    }
    let records = 0;
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      if (results[i] instanceof StoredPut) {
        records++;
        bytes += entries[i]!.data.length;
      }
    }
    this.metrics.add(state.meta.name, 'IncomingRecords', records);
    this.metrics.add(state.meta.name, 'IncomingBytes', bytes);
    return results;
  }

  async getShardIterator(ref: StreamRef, shardId: string, type: IteratorType, startingSequenceNumber?: string, timestamp?: Date): Promise<string> {
    const state = this.stream(ref);
    const shard = state.meta.shards.find((s) => shardIdFor(s.shardNumber) === shardId);
    if (!shard) {
      throw new AwsError('ResourceNotFoundException', `Shard ${shardId} in stream ${state.meta.name} under account ${this.options.accountId} does not exist`);
    }
    const bySequence = type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER';
    if (bySequence !== (startingSequenceNumber !== undefined)) {
      throw new AwsError(
        'InvalidArgumentException',
        `Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and ${startingSequenceNumber === undefined ? 'no' : 'also a'} StartingSequenceNumber.`,
      );
    }
    if (type === 'AT_TIMESTAMP' && timestamp === undefined) {
      throw new AwsError('InvalidArgumentException', 'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.');
    }
    if (type !== 'AT_TIMESTAMP' && timestamp !== undefined) {
      throw new AwsError('InvalidArgumentException', `Must specify timestampInMillis parameter only for iterator of type AT_TIMESTAMP. Current request has ShardIteratorType ${type}.`);
    }
    const log = await this.shardLog(state, shard.shardNumber);
    const now = this.options.clock.now();
    let ordinal: number;
    switch (type) {
      case 'TRIM_HORIZON':
        ordinal = await log.ordinalAtTime(this.retentionCutoff(state, now));
        break;
      case 'LATEST':
        ordinal = log.committedOrdinal;
        break;
      case 'AT_TIMESTAMP': {
        const at = timestamp!.getTime();
        if (at > now) {
          throw new AwsError('InvalidArgumentException', `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${at}, currentTimestampInMillis: ${now}`);
        }
        ordinal = await log.ordinalAtTime(Math.max(at, this.retentionCutoff(state, now)));
        break;
      }
      default: {
        const decoded = ordinalForShard(startingSequenceNumber!, shard.shardNumber, state.meta.name, 'StartingSequenceNumber');
        ordinal = type === 'AT_SEQUENCE_NUMBER' ? decoded : decoded + 1;
      }
    }
    return this.iterators.encode({ streamName: state.meta.name, streamCreatedMs: state.meta.createdMs, shardNumber: shard.shardNumber, ordinal, issuedMs: now });
  }

  private retentionCutoff(state: StreamState, now: number): number {
    return now - state.meta.retentionHours * 3600_000;
  }

  /**
   * Calls `listener` once, the next time the shard takes records, closes, or its stream goes.
   * Watch before reading: then records appended between the read and the wait are not missed.
   * Returns a function that stops watching.
   */
  watchShard(streamName: string, shardId: string, listener: () => void): () => void {
    const key = `${streamName}/${shardId}`;
    let listeners = this.shardWatchers.get(key);
    if (!listeners) this.shardWatchers.set(key, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.shardWatchers.get(key) === listeners) this.shardWatchers.delete(key);
    };
  }

  /**
   * The sequence number of the record just before an iterator's position — what a consumer
   * resumes from with AFTER_SEQUENCE_NUMBER — or undefined at the very start of the shard.
   */
  sequenceNumberBefore(iterator: string): string | undefined {
    const position = this.iterators.decode(iterator, this.options.clock.now());
    return position.ordinal > 0 ? sequenceNumber(position.shardNumber, position.ordinal - 1) : undefined;
  }

  private notifyShard(streamName: string, shardNumber: number): void {
    if (this.shardWatchers.size === 0) return; // every putRecords calls this: no key to build when nobody subscribes
    const key = `${streamName}/${shardIdFor(shardNumber)}`;
    const listeners = this.shardWatchers.get(key);
    if (!listeners) return;
    this.shardWatchers.delete(key);
    for (const listener of listeners) listener();
  }

  /**
   * Reads from a shard iterator. `enhancedFanOut` reads (SubscribeToShard) do not spend the
   * shard's GetRecords budget: each consumer has its own 2 MiB/s pipe (enforced by the subscription).
   */
  async getRecords(iterator: string, limit: number, options: { enhancedFanOut?: boolean } = {}): Promise<ReadResult> {
    const now = this.options.clock.now();
    const position = this.iterators.decode(iterator, now);
    const state = this.streams.get(position.streamName);
    const shard = state?.meta.shards.find((s) => s.shardNumber === position.shardNumber);
    if (!state || state.meta.createdMs !== position.streamCreatedMs || !shard || state.meta.status === 'DELETING') {
      throw new AwsError(
        'ResourceNotFoundException',
        `Shard ${shardIdFor(position.shardNumber)} in stream ${position.streamName} under account ${this.options.accountId} does not exist`,
      );
    }
    const runtime = this.runtime(state, shard.shardNumber);
    if (!options.enhancedFanOut && !runtime.throughput.admitRead(now)) {
      this.metrics.add(state.meta.name, 'ReadProvisionedThroughputExceeded', 1);
      throw new AwsError(
        'ProvisionedThroughputExceededException',
        `Rate exceeded for shard ${shardIdFor(shard.shardNumber)} in stream ${state.meta.name} under account ${this.options.accountId}.`,
      );
    }
    const log = await this.shardLog(state, shard.shardNumber);
    const cutoff = this.retentionCutoff(state, now);
    const stored = await log.read(position.ordinal, limit, GET_RECORDS_MAX_BYTES);
    // Records past retention may still sit in a segment not yet deleted; they are never served.
    const records = stored.filter((r) => r.arrivalMs >= cutoff).map((r) => Object.assign(r, { sequenceNumber: sequenceNumber(shard.shardNumber, r.ordinal) }));
    const nextOrdinal = stored.length > 0 ? stored[stored.length - 1]!.ordinal + 1 : Math.max(position.ordinal, log.firstOrdinal);
    const caughtUp = nextOrdinal >= log.committedOrdinal;
    let bytes = 0;
    for (const r of records) bytes += r.data.length + Buffer.byteLength(r.partitionKey);
    if (!options.enhancedFanOut) runtime.throughput.chargeRead(bytes, now);
    const last = records[records.length - 1];
    const result: ReadResult = { records, millisBehindLatest: caughtUp || !last ? 0 : Math.max(0, now - last.arrivalMs), caughtUp, bytes };
    const closedAndDrained = shard.closedMs !== undefined && !log.acceptsAppends && caughtUp;
    if (closedAndDrained) {
      result.childShards = state.meta.shards
        .filter((s) => s.parentShardNumber === shard.shardNumber || s.adjacentParentShardNumber === shard.shardNumber)
        .map((child) => ({
          shardId: shardIdFor(child.shardNumber),
          parentShards: [child.parentShardNumber, child.adjacentParentShardNumber].filter((n): n is number => n !== undefined).map(shardIdFor),
          startingHashKey: child.startingHashKey,
          endingHashKey: child.endingHashKey,
        }));
    } else {
      result.nextIterator = this.iterators.encode({ ...position, ordinal: nextOrdinal, issuedMs: now } satisfies IteratorPosition);
    }
    if (options.enhancedFanOut) {
      this.metrics.add(state.meta.name, 'SubscribeToShardEvent.Records', records.length);
      this.metrics.add(state.meta.name, 'SubscribeToShardEvent.Bytes', bytes);
    } else {
      this.metrics.add(state.meta.name, 'GetRecords.Success', 1);
      this.metrics.add(state.meta.name, 'GetRecords.Records', records.length);
      this.metrics.add(state.meta.name, 'GetRecords.Bytes', bytes);
      if (last) this.metrics.set(state.meta.name, 'GetRecords.IteratorAgeMilliseconds', result.millisBehindLatest);
    }
    return result;
  }

  // ---------------------------------------------------------------- maintenance

  /** Retention: delete expired segments and forget closed shards whose data all expired. */
  async runMaintenance(): Promise<void> {
    const now = this.options.clock.now();
    for (const state of [...this.streams.values()]) {
      if (state.meta.status === 'DELETING') continue;
      const cutoff = this.retentionCutoff(state, now);
      const expired: number[] = [];
      for (const shard of state.meta.shards) {
        const log = await this.shardLog(state, shard.shardNumber);
        await log.deleteOlderThan(cutoff);
        if (shard.closedMs !== undefined && shard.closedMs < cutoff) expired.push(shard.shardNumber);
      }
      if (expired.length > 0 && state.meta.status === 'ACTIVE') {
        state.meta.shards = state.meta.shards.filter((s) => !expired.includes(s.shardNumber));
        await state.persist(this.metadata);
        for (const shardNumber of expired) {
          const runtime = state.shards.get(shardNumber);
          state.shards.delete(shardNumber);
          if (runtime?.log) await (await runtime.log).destroy();
          else await fsp.rm(join(state.dir, String(shardNumber)), { recursive: true, force: true });
        }
      }
      if (state.meta.mode === 'ON_DEMAND' && state.meta.status === 'ACTIVE') await this.splitHotShard(state);
    }
  }

  /** ON_DEMAND: a shard that refused writes since the last look is split at its midpoint. */
  private async splitHotShard(state: StreamState): Promise<void> {
    let hottest: { shardNumber: number; throttled: number } | undefined;
    for (const open of state.openShards) {
      const runtime = state.shards.get(open.shardNumber);
      const throttled = runtime?.throughput.throttledWrites ?? 0;
      if (runtime) runtime.throughput.throttledWrites = 0;
      if (throttled > 0 && (!hottest || throttled > hottest.throttled)) hottest = { shardNumber: open.shardNumber, throttled };
    }
    if (!hottest || this.openShardCount() + 1 > this.options.shardLimit) return;
    const shard = state.openShards.find((s) => s.shardNumber === hottest.shardNumber)!;
    if (shard.end - shard.start < 2n) return;
    this.options.log('on_demand_split', { stream: state.meta.name, shard: shardIdFor(shard.shardNumber), throttled: hottest.throttled });
    const middle = shard.start + (shard.end - shard.start + 1n) / 2n;
    await this.beginUpdate(state, { kind: 'split', shardNumber: shard.shardNumber, newStartingHashKey: middle.toString() });
  }
}

