/**
 * DeliveryStreams — every Firehose delivery stream of the collector: metadata, buffer logs and
 * delivery engines, and the operations the Firehose API needs.
 *
 * On disk under `<data-dir>/delivery/`: `meta/` (level: DeliveryMetadataStore) and
 * `<name>/buffer/` (the stream's ShardLog of accepted, undelivered records). Local buckets are
 * `<data-dir>/s3/<bucket>/`.
 *
 * Invariants: PutRecord/PutRecordBatch resolve only after the records are durably written to the
 * buffer log; metadata changes are synced before the API answers; the engine of a stream runs
 * only while the stream is ACTIVE (or CREATING, which turns ACTIVE after the status delay).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { AwsError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { DeliveryMetrics } from '../metrics.js';
import { defaultShardLogOptions, ShardLog } from '../store/shard-log.js';
import type { StreamStore } from '../store/streams.js';
import { DeliveryEngine } from './delivery-stream.js';
import type { Destination, DestinationSpec } from './destinations/destination.js';
import { destinationSpecs } from './destinations/index.js';
import { DeliveryMetadataStore, type DeliveryStreamMeta, type DeliveryStreamType } from './metadata.js';
import { bucketOf, LocalFolderObjectStore, S3ApiObjectStore, type ObjectStore, type S3ApiSettings } from './object-store.js';
import { KinesisStreamSource } from './sources/kinesis-stream.js';

export interface DeliveryStreamsOptions {
  dataDir: string;
  clock: Clock;
  region: string;
  accountId: string;
  /** How long CREATING and DELETING last (the collector's --status-delay-ms). */
  statusDelayMs: number;
  logger: Logger;
  /** With an S3 endpoint, buckets are reached through the S3 API instead of `<data-dir>/s3/`. */
  s3?: S3ApiSettings;
  /** The collector's streams, for KinesisStreamAsSource delivery streams. */
  streamStore?: StreamStore;
  /** Undelivered bytes a stream may hold before puts fail with ServiceUnavailableException. */
  maxBacklogBytes?: number;
}

// Firehose quota: 50 delivery streams per account and region by default (raised on request); an appliance allows more.
const DELIVERY_STREAM_LIMIT = 500;
// Riffle: a delivery stream whose destination is down keeps at most this much undelivered data before refusing puts.
const DEFAULT_MAX_BACKLOG_BYTES = 1024 * 1024 * 1024;
// Buffer segments are small: they are deleted as soon as delivery passes them.
const BUFFER_SEGMENT_BYTES = 16 * 1024 * 1024;
const DESTINATION_ID = 'destinationId-000000000001';

interface StreamRuntime {
  meta: DeliveryStreamMeta;
  log: ShardLog;
  engine: DeliveryEngine;
  /** KinesisStreamAsSource: the reader copying the stream into the buffer log. */
  source?: KinesisStreamSource;
  /** The destination built for `builtForVersion`; rebuilt when the version changes. */
  destination?: Destination;
  builtForVersion?: number;
  backlogBytes: number;
  timer?: NodeJS.Timeout;
}

export interface PutResult {
  ordinal: number;
  encrypted: boolean;
}

export class DeliveryStreams {
  private readonly streams = new Map<string, StreamRuntime>();
  readonly metrics = new DeliveryMetrics();
  private readonly objects: LocalFolderObjectStore | S3ApiObjectStore;
  private closed = false;

  private constructor(
    private readonly options: DeliveryStreamsOptions,
    private readonly metadata: DeliveryMetadataStore,
  ) {
    this.objects = options.s3 ? new S3ApiObjectStore(options.s3) : new LocalFolderObjectStore(join(options.dataDir, 's3'));
  }

  static async open(options: DeliveryStreamsOptions): Promise<DeliveryStreams> {
    const root = join(options.dataDir, 'delivery');
    await fsp.mkdir(root, { recursive: true });
    const metadata = await DeliveryMetadataStore.open(join(root, 'meta'));
    const streams = new DeliveryStreams(options, metadata);
    for (const meta of await metadata.loadDeliveryStreams()) {
      if (meta.status === 'DELETING') {
        await streams.removeFiles(meta.name);
        continue;
      }
      if (meta.status === 'CREATING') meta.status = 'ACTIVE';
      await streams.openRuntime(meta);
    }
    return streams;
  }

  /** Starts every stream's delivery engine (and stream reader). */
  async start(): Promise<void> {
    for (const runtime of this.streams.values()) await this.startRuntime(runtime);
  }

  private async startRuntime(runtime: StreamRuntime): Promise<void> {
    runtime.engine.start();
    await runtime.source?.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const runtime of this.streams.values()) {
      clearTimeout(runtime.timer);
      await runtime.source?.stop();
      await runtime.engine.stop();
      await runtime.log.close();
    }
    await this.metadata.close();
    if (this.objects instanceof S3ApiObjectStore) this.objects.close();
  }

  arn(name: string): string {
    return `arn:aws:firehose:${this.options.region}:${this.options.accountId}:deliverystream/${name}`;
  }

  now(): number {
    return this.options.clock.now();
  }

  get accountId(): string {
    return this.options.accountId;
  }

  get region(): string {
    return this.options.region;
  }

  /** The stream's metadata; ResourceNotFoundException as Firehose words it. */
  get(name: string): DeliveryStreamMeta {
    const runtime = this.streams.get(name);
    if (!runtime) throw new AwsError('ResourceNotFoundException', `Firehose ${name} under account ${this.options.accountId} not found.`);
    return runtime.meta;
  }

  list(type?: DeliveryStreamType): DeliveryStreamMeta[] {
    return [...this.streams.values()]
      .map((runtime) => runtime.meta)
      .filter((meta) => type === undefined || meta.type === type)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The stream store KinesisStreamAsSource reads, or undefined when the collector has none. */
  get streamStore(): StreamStore | undefined {
    return this.options.streamStore;
  }

  /** The engine, for tests and the benchmark. */
  engineOf(name: string): DeliveryEngine {
    this.get(name);
    return this.streams.get(name)!.engine;
  }

  async create(input: {
    name: string;
    type: DeliveryStreamType;
    destination: { spec: DestinationSpec; config: Record<string, unknown> };
    tags: Array<{ Key: string; Value?: string }>;
    encryption?: DeliveryStreamMeta['encryption'];
    kinesisSource?: DeliveryStreamMeta['kinesisSource'];
  }): Promise<DeliveryStreamMeta> {
    if (this.streams.has(input.name)) {
      throw new AwsError('ResourceInUseException', `Firehose ${input.name} under accountId ${this.options.accountId} already exists`);
    }
    if (this.streams.size >= DELIVERY_STREAM_LIMIT) {
      throw new AwsError('LimitExceededException', `You have already consumed your firehose quota of ${DELIVERY_STREAM_LIMIT} hoses. Firehose names: ${[...this.streams.keys()].slice(0, 10).join(', ')}...`);
    }
    const config = input.destination.spec.normalize(input.destination.config);
    const meta: DeliveryStreamMeta = {
      name: input.name,
      createdMs: this.options.clock.now(),
      status: 'CREATING',
      type: input.type,
      versionId: 1,
      tags: input.tags,
      encryption: input.encryption ?? { status: 'DISABLED' },
      ...(input.kinesisSource ? { kinesisSource: input.kinesisSource } : {}),
      destination: { id: DESTINATION_ID, kind: input.destination.spec.kind, config },
    };
    await this.metadata.saveDeliveryStream(meta);
    const runtime = await this.openRuntime(meta);
    this.afterDelay(runtime, async () => {
      runtime.meta.status = 'ACTIVE';
      await this.metadata.saveDeliveryStream(runtime.meta);
      await this.startRuntime(runtime);
    });
    return meta;
  }

  async delete(name: string): Promise<void> {
    const runtime = this.runtime(name);
    runtime.meta.status = 'DELETING';
    await this.metadata.saveDeliveryStream(runtime.meta);
    clearTimeout(runtime.timer);
    this.afterDelay(runtime, async () => {
      await runtime.source?.stop();
      await runtime.engine.stop();
      await runtime.log.close();
      await this.removeFiles(name);
      await this.metadata.deleteDeliveryStream(name);
      if (this.streams.get(name) === runtime) this.streams.delete(name);
      this.metrics.forget(name);
    });
  }

  /** Applies a metadata change in one synced write; `change` may throw to refuse it. */
  async update(name: string, change: (meta: DeliveryStreamMeta) => DeliveryStreamMeta): Promise<DeliveryStreamMeta> {
    const runtime = this.runtime(name);
    const next = change(structuredClone(runtime.meta));
    await this.metadata.saveDeliveryStream(next);
    runtime.meta = next;
    // New buffering hints may make the waiting batch due now.
    runtime.engine.notify();
    return next;
  }

  /** Appends records durably to the stream's buffer log; resolves with the first ordinal. */
  async put(name: string, records: readonly Buffer[]): Promise<PutResult> {
    const runtime = this.runtime(name);
    if (runtime.meta.status !== 'ACTIVE') {
      throw new AwsError('ResourceNotFoundException', `Firehose ${name} under account ${this.options.accountId} is not ACTIVE, instead in state ${runtime.meta.status}.`);
    }
    if (runtime.meta.type !== 'DirectPut') {
      throw new AwsError('InvalidArgumentException', `This operation is not permitted on KinesisStreamAsSource firehose ${this.arn(name)}`);
    }
    const bytes = records.reduce((sum, data) => sum + data.length, 0);
    this.reserveBacklog(runtime, bytes);
    try {
      const ordinal = await runtime.log.append(records.map((data) => ({ partitionKey: '', data })), runtime.meta.encryption.status === 'ENABLED');
      runtime.engine.notify();
      this.metrics.add(name, 'IncomingRecords', records.length);
      this.metrics.add(name, 'IncomingBytes', bytes);
      this.metrics.add(name, 'IncomingPutRequests', 1);
      return { ordinal, encrypted: runtime.meta.encryption.status === 'ENABLED' };
    } catch (error) {
      runtime.backlogBytes -= bytes;
      throw error;
    }
  }

  /** How many of `sizes` (in order) fit in the stream's backlog allowance right now. */
  acceptableCount(name: string, sizes: readonly number[]): number {
    const runtime = this.runtime(name);
    const limit = this.options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    let backlog = runtime.backlogBytes;
    let count = 0;
    for (const size of sizes) {
      if (backlog + size > limit) break;
      backlog += size;
      count++;
    }
    return count;
  }

  /** PutRecordBatch refused records past the backlog allowance. */
  countThrottled(name: string, records: number): void {
    if (records > 0) this.metrics.add(name, 'ThrottledRecords', records);
  }

  private reserveBacklog(runtime: StreamRuntime, bytes: number): void {
    const limit = this.options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    if (runtime.backlogBytes + bytes > limit) throw new AwsError('ServiceUnavailableException', 'Slow down.');
    runtime.backlogBytes += bytes;
  }

  private runtime(name: string): StreamRuntime {
    this.get(name);
    return this.streams.get(name)!;
  }

  private async openRuntime(meta: DeliveryStreamMeta): Promise<StreamRuntime> {
    const log = await ShardLog.open(join(this.options.dataDir, 'delivery', meta.name, 'buffer'), {
      ...defaultShardLogOptions,
      segmentMaxBytes: BUFFER_SEGMENT_BYTES,
      now: () => this.options.clock.now(),
    });
    const runtime = { meta, log, backlogBytes: 0 } as StreamRuntime;
    runtime.engine = await DeliveryEngine.open({
      name: meta.name,
      log,
      metadata: this.metadata,
      clock: this.options.clock,
      logger: this.options.logger,
      destination: () => this.destinationOf(runtime),
      processing: { deliveryStreamArn: this.arn(meta.name), region: this.options.region, functionsDir: join(this.options.dataDir, 'functions') },
      onDelivered: ({ records, bytes, oldestArrivalMs }) => {
        runtime.backlogBytes = Math.max(0, runtime.backlogBytes - bytes);
        const destination = destinationSpecs.get(runtime.meta.destination.kind)!.metricsName;
        this.metrics.add(meta.name, `DeliveryTo${destination}.Records`, records);
        this.metrics.add(meta.name, `DeliveryTo${destination}.Bytes`, bytes);
        this.metrics.add(meta.name, `DeliveryTo${destination}.Success`, 1);
        this.metrics.set(meta.name, `DeliveryTo${destination}.DataFreshness`, Math.max(0, Math.round((this.options.clock.now() - oldestArrivalMs) / 1000)));
      },
    });
    const source = meta.kinesisSource;
    if (source) {
      if (!this.options.streamStore) throw new Error(`delivery stream ${meta.name} reads a stream, but no stream store was given`);
      runtime.source = new KinesisStreamSource({
        deliveryStreamName: meta.name,
        streamStore: this.options.streamStore,
        streamArn: source.streamArn,
        startingPosition: source.startingPosition,
        deliveryStartMs: source.deliveryStartMs,
        log,
        metadata: this.metadata,
        logger: this.options.logger,
        onAppended: (bytes) => {
          runtime.backlogBytes += bytes;
          runtime.engine.notify();
        },
        backlogFull: () => runtime.backlogBytes >= (this.options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES),
      });
    }
    // Records left from before a restart count against the backlog until delivered.
    runtime.backlogBytes = runtime.engine.backlogRecords > 0 ? await this.undeliveredBytes(log, runtime.engine.deliveredOrdinal) : 0;
    this.streams.set(meta.name, runtime);
    return runtime;
  }

  private async undeliveredBytes(log: ShardLog, from: number): Promise<number> {
    let bytes = 0;
    for (let ordinal = from; ordinal < log.committedOrdinal; ) {
      const records = await log.read(ordinal, 10_000, 64 * 1024 * 1024);
      if (records.length === 0) break;
      for (const record of records) bytes += record.data.length;
      ordinal = records[records.length - 1]!.ordinal + 1;
    }
    return bytes;
  }

  private destinationOf(runtime: StreamRuntime): Destination {
    const { meta } = runtime;
    if (!runtime.destination || runtime.builtForVersion !== meta.versionId) {
      const spec = destinationSpecs.get(meta.destination.kind);
      if (!spec) throw new Error(`delivery stream ${meta.name}: unknown destination kind ${meta.destination.kind}`);
      runtime.destination = spec.create(meta.destination.config, {
        streamName: meta.name,
        deliveryStreamArn: this.arn(meta.name),
        versionId: meta.versionId,
        schemaDir: join(this.options.dataDir, 'glue'),
        clock: this.options.clock,
        objectStoreFor: (bucketArn) => this.objectStoreFor(bucketArn),
      });
      runtime.builtForVersion = meta.versionId;
    }
    return runtime.destination;
  }

  private objectStoreFor(bucketArn: string): { store: ObjectStore; bucket: string } {
    const bucket = bucketOf(bucketArn);
    if (bucket === undefined) throw new Error(`not an S3 bucket ARN: ${bucketArn}`);
    return { store: this.objects, bucket };
  }

  private async removeFiles(name: string): Promise<void> {
    await fsp.rm(join(this.options.dataDir, 'delivery', name), { recursive: true, force: true });
  }

  private afterDelay(runtime: StreamRuntime, change: () => Promise<void>): void {
    const run = () => {
      runtime.timer = undefined;
      if (this.closed) return;
      change().catch((error) => this.options.logger('delivery-stream-status-change-failed', { deliveryStream: runtime.meta.name, error: String(error) }));
    };
    if (this.options.statusDelayMs <= 0) {
      queueMicrotask(run);
      return;
    }
    runtime.timer = setTimeout(run, this.options.statusDelayMs);
    runtime.timer.unref();
  }
}
