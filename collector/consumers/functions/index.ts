/**
 * Hosted functions: runs every enabled event source mapping of the config — one ShardRunner per
 * shard whose parents are finished, each with its own function invokers, so a crashing or slow
 * function holds up only its own shard.
 *
 * Progress is durable: each mapping's checkpoint per shard is a lease record in the metadata store
 * (application `function:<mapping name>`, owner `collector`; collector/store/leases.ts), written
 * synchronously before the runner moves on. SHARD_END there lets a shard's children start.
 *
 * Mappings come from the config file (fixed while the collector runs) and from the Riffle-only
 * API (`RiffleFunctions_20250101.*`, collector/api/riffle-functions/), which keeps its mappings as
 * they were given in `<data-dir>/functions.json` (replaced durably: shared/durable-file.ts).
 *
 * Failure destinations: a stream ARN gets each failure record as one record (partition key: the
 * shard id); a bucket ARN is the local folder `<data-dir>/s3/<bucket>/`, with
 * object keys as Lambda names them: `aws/lambda/<mapping>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Backoff } from '../../../shared/backoff.js';
import { sleepUnlessAborted } from '../../../shared/clock.js';
import { replaceFileDurably } from '../../../shared/durable-file.js';
import { AwsError, isAwsError } from '../../../shared/errors.js';
import { ConfigError } from '../../../shared/config-values.js';
import { LocalFolderObjectStore } from '../../delivery/object-store.js';
import { SHARD_END, type Lease } from '../../store/leases.js';
import type { StreamStore } from '../../store/streams.js';
import { checkEventSourceMappings, type EventSourceMapping } from './config.js';
import { createInvoker } from './invoker.js';
import { ShardRunner, type ShardCheckpoint } from './shard-runner.js';

export type { EventSourceMapping } from './config.js';

const LEASE_OWNER = 'collector';
/** How often a mapping looks for new shards (after a reshard) and streams that did not exist yet. */
const SHARD_SCAN_MS = 1_000;

export interface HostedFunctionsOptions {
  dataDir: string;
  region: string;
  accountId: string;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export type MappingOrigin = 'config' | 'api';

interface Running {
  mapping: EventSourceMapping;
  origin: MappingOrigin;
  /** What the API was given, kept to write functions.json again. */
  request?: Record<string, unknown>;
  stopping: AbortController;
  supervisor?: Promise<void>;
}

export class HostedFunctions {
  private readonly stopping = new AbortController();
  private readonly mappings = new Map<string, Running>();
  /** Failure destinations' buckets: the same local bucket folders as Firehose's S3 destinations (durable before a put resolves). */
  private readonly buckets: LocalFolderObjectStore;
  /** functions.json writes, one at a time. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: StreamStore,
    private readonly options: HostedFunctionsOptions,
  ) {
    this.buckets = new LocalFolderObjectStore(join(options.dataDir, 's3'));
  }

  /** The config file's mappings and those the API created earlier (re-validated; a broken one is logged and skipped). */
  static async open(store: StreamStore, configMappings: readonly EventSourceMapping[], options: HostedFunctionsOptions): Promise<HostedFunctions> {
    const functions = new HostedFunctions(store, options);
    for (const mapping of configMappings) functions.mappings.set(mapping.name, { mapping, origin: 'config', stopping: new AbortController() });
    let saved: unknown[] = [];
    try {
      saved = JSON.parse(await fsp.readFile(functions.savedPath, 'utf8')) as unknown[];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const request of saved) {
      try {
        const [mapping] = checkEventSourceMappings([request], functions.savedPath, options.dataDir);
        if (!functions.mappings.has(mapping!.name)) functions.mappings.set(mapping!.name, { mapping: mapping!, origin: 'api', request: request as Record<string, unknown>, stopping: new AbortController() });
      } catch (error) {
        options.log('function_mapping_invalid', { file: functions.savedPath, error: String(error) });
      }
    }
    return functions;
  }

  private get savedPath(): string {
    return join(this.options.dataDir, 'functions.json');
  }

  start(): void {
    for (const running of this.mappings.values()) this.startMapping(running);
  }

  private startMapping(running: Running): void {
    if (!running.mapping.enabled) return;
    const signal = AbortSignal.any([this.stopping.signal, running.stopping.signal]);
    // Every shard runner and its waits listen to it: many listeners are expected, not a leak.
    setMaxListeners(0, signal);
    running.supervisor = this.supervise(running.mapping, signal);
  }

  /** Stops reading; batches in flight are abandoned unacknowledged and read again after a restart. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.mappings.values()].map((running) => running.supervisor));
  }

  list(): Array<{ mapping: EventSourceMapping; origin: MappingOrigin }> {
    return [...this.mappings.values()].sort((a, b) => (a.mapping.name < b.mapping.name ? -1 : 1));
  }

  /** Adds a mapping given as a config entry; durable before it returns, then it starts. */
  async create(request: Record<string, unknown>): Promise<EventSourceMapping> {
    let mapping: EventSourceMapping;
    try {
      [mapping] = checkEventSourceMappings([request], 'request', this.options.dataDir) as [EventSourceMapping];
    } catch (error) {
      if (error instanceof ConfigError) throw new AwsError('ValidationException', error.message);
      throw error;
    }
    if (this.mappings.has(mapping.name)) throw new AwsError('ResourceInUseException', `An event source mapping named ${mapping.name} already exists.`);
    const running: Running = { mapping, origin: 'api', request, stopping: new AbortController() };
    this.mappings.set(mapping.name, running);
    try {
      await this.save();
    } catch (error) {
      this.mappings.delete(mapping.name);
      throw error;
    }
    this.startMapping(running);
    return mapping;
  }

  /** Removes an API-created mapping: it stops, and its checkpoints stay (a mapping of the same name resumes from them). */
  async delete(name: string): Promise<void> {
    const running = this.mappings.get(name);
    if (!running) throw new AwsError('ResourceNotFoundException', `Event source mapping ${name} not found.`);
    if (running.origin === 'config') throw new AwsError('ResourceInUseException', `Event source mapping ${name} is declared in the config file; remove it there.`);
    this.mappings.delete(name);
    await this.save();
    running.stopping.abort();
    await running.supervisor;
  }

  private save(): Promise<void> {
    const write = this.saving.then(async () => {
      const requests = [...this.mappings.values()].filter((r) => r.origin === 'api').map((r) => r.request);
      await replaceFileDurably(this.savedPath, JSON.stringify(requests, null, 2));
    });
    this.saving = write.catch(() => undefined);
    return write;
  }

  private functionArn(mapping: EventSourceMapping): string {
    return `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${mapping.name}`;
  }

  private async supervise(mapping: EventSourceMapping, signal: AbortSignal): Promise<void> {
    const application = `function:${mapping.name}`;
    const running = new Map<string, Promise<void>>();
    let wake: () => void = () => undefined;
    let missingLogged = false;
    while (!signal.aborted) {
      try {
        const shards = this.store.shardViews({ streamName: mapping.streamName });
        missingLogged = false;
        for (const shard of shards) {
          if (running.has(shard.shardId)) continue;
          const parents = [shard.parentShardId, shard.adjacentParentShardId].filter((id): id is string => id !== undefined);
          const lease = await this.store.leases.create(application, mapping.streamName, shard.shardId, parents);
          if (lease.checkpoint === SHARD_END) continue;
          const leases = this.store.leases.list(application, mapping.streamName);
          const parentDone = (id: string) => leases.find((l) => l.shardId === id)?.checkpoint === SHARD_END || !shards.some((s) => s.shardId === id);
          if (!parents.every(parentDone)) continue;
          const run = this.runShard(mapping, application, lease, signal).finally(() => {
            running.delete(shard.shardId);
            wake();
          });
          running.set(shard.shardId, run);
        }
      } catch (error) {
        if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
        if (!missingLogged) this.options.log('function_stream_missing', { mapping: mapping.name, stream: mapping.streamName });
        missingLogged = true;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, SHARD_SCAN_MS);
        wake = done;
        signal.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
    }
    await Promise.all(running.values());
  }

  /** Runs one shard to its end; an unexpected failure restarts it from its checkpoint after a pause. */
  private async runShard(mapping: EventSourceMapping, application: string, lease: Lease, signal: AbortSignal): Promise<void> {
    const functionArn = this.functionArn(mapping);
    const invokers = Array.from({ length: mapping.parallelizationFactor }, () => createInvoker(mapping, functionArn));
    let current = lease;
    const checkpoint: ShardCheckpoint = {
      get current() {
        return current.checkpoint;
      },
      save: async (sequenceNumber) => {
        current = await this.store.leases.update(application, mapping.streamName, lease.shardId, current.counter, { owner: LEASE_OWNER, checkpoint: sequenceNumber });
      },
    };
    const backoff = new Backoff({ retryInitialBackoffMillis: 1_000, retryMaxBackoffMillis: 30_000 });
    try {
      while (!signal.aborted) {
        const runner = new ShardRunner({
          store: this.store,
          mapping,
          source: { region: this.options.region, streamArn: this.store.streamArn(mapping.streamName), shardId: lease.shardId },
          functionArn,
          invokers,
          checkpoint,
          sendToFailureDestination: (record, event) => this.sendToFailureDestination(mapping, lease.shardId, record, event, signal),
          now: () => this.store.now(),
          signal: signal,
          log: this.options.log,
        });
        try {
          if ((await runner.run()) === 'ended') return;
        } catch (error) {
          if (isAwsError(error, 'ResourceNotFoundException')) return; // the stream or shard went away
          this.options.log('function_shard_failed', { mapping: mapping.name, shardId: lease.shardId, error: String(error) });
          await sleepUnlessAborted(backoff.failed(false), signal);
        }
      }
    } finally {
      await Promise.all(invokers.map((invoker) => invoker.close()));
    }
  }

  /** Writes a failure record durably, retrying until it is stored: the checkpoint waits for it. */
  private async sendToFailureDestination(mapping: EventSourceMapping, shardId: string, record: Record<string, unknown>, event: unknown, signal: AbortSignal): Promise<void> {
    const destination = mapping.onFailure!;
    const backoff = new Backoff({ retryInitialBackoffMillis: 500, retryMaxBackoffMillis: 30_000 });
    while (!signal.aborted) {
      try {
        const bucket = /^arn:aws[\w-]*:s3:::(.+)$/.exec(destination)?.[1];
        if (bucket !== undefined) await this.writeToBucket(bucket, mapping, shardId, { ...record, payload: event });
        else await this.putToStream(destination, shardId, record);
        return;
      } catch (error) {
        this.options.log('function_failure_destination_failed', { mapping: mapping.name, destination, error: String(error) });
        await sleepUnlessAborted(backoff.failed(false), signal);
      }
    }
  }

  private async putToStream(streamArn: string, shardId: string, record: Record<string, unknown>): Promise<void> {
    const [result] = await this.store.putRecords({ streamArn }, [{ partitionKey: shardId, data: Buffer.from(JSON.stringify(record)) }]);
    if (!result || !('sequenceNumber' in result)) throw new Error(`put to ${streamArn} failed: ${result && 'errorCode' in result ? result.errorCode : 'no result'}`);
  }

  private async writeToBucket(bucket: string, mapping: EventSourceMapping, shardId: string, content: Record<string, unknown>): Promise<void> {
    const now = new Date(this.store.now());
    const iso = now.toISOString();
    const key = `aws/lambda/${mapping.name}/${shardId}/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 19).replaceAll(':', '.')}-${randomUUID()}`;
    await this.buckets.putObject(bucket, key, Buffer.from(JSON.stringify(content)));
  }
}
