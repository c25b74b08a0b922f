/**
 * The consumer library as applications run it: worker processes against the real collector.
 * Three workers share six shards; one is killed with SIGKILL and its shards move to the others
 * with no record skipped; graceful shutdown checkpoints what was processed; checkpoints survive a
 * collector restart; children of a split are read only after their parent; KPL aggregates built by
 * aws-kinesis-agg arrive as their user records; a worker given no keys signs every call with the
 * credentials of its environment. All of it reading by GetRecords polling and by enhanced fan-out
 * (SubscribeToShard).
 */
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutRecordsCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerApi, type WireLease } from '../../shared/consumer/api-client.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { LEASE_START, readProcessed, startWorkerProcess, type WorkerProcess } from '../helpers/consumer-worker-process.js';
import { createActiveStream, kinesisClient, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const awsKinesisAgg = require('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(record: { partitionKey: string; data: Buffer }): void; build(): { partitionKey: string; data: Buffer } };
};

const APP = 'billing';
const STREAM = 'orders';
const LEASE_DURATION_MS = 1_500;
const WAIT = { timeoutMs: 30_000, intervalMs: 100 };

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
let leasesApi: ConsumerApi;
const workers: WorkerProcess[] = [];

async function startCollectorProcess(): Promise<void> {
  collector = await startCollector(join(dir.path, 'data'));
  client = kinesisClient(collector.endpoint);
  leasesApi = new ConsumerApi({ endpoint: collector.endpoint });
}

async function stopCollectorProcess(): Promise<void> {
  client.destroy();
  leasesApi.close();
  expect(await collector.stop()).toBe(0);
}

async function startWorker(workerId: string, readMode: 'polling' | 'fan-out', extra: { dieAfter?: string; env?: NodeJS.ProcessEnv } = {}): Promise<WorkerProcess> {
  const { dieAfter, env } = extra;
  const worker = await startWorkerProcess(
    {
      endpoint: collector.endpoint,
      applicationName: APP,
      streamName: STREAM,
      workerId,
      outFile: outFile(workerId),
      leaseDurationMs: LEASE_DURATION_MS,
      pollIntervalMs: 200,
      readMode,
      ...(dieAfter !== undefined ? { dieAfter } : {}),
    },
    env,
  );
  workers.push(worker);
  return worker;
}

const outFile = (workerId: string) => join(dir.path, `${workerId}.out`);

async function putRecords(prefix: string, count: number): Promise<string[]> {
  const data = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let start = 0; start < count; start += 500) {
    const batch = data.slice(start, start + 500);
    const { FailedRecordCount } = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: batch.map((d) => ({ PartitionKey: d, Data: Buffer.from(d) })) }));
    expect(FailedRecordCount).toBe(0);
  }
  return data;
}

function processedData(workerIds: string[]): Set<string> {
  return new Set(workerIds.flatMap((id) => readProcessed(outFile(id)).filter((line) => line.sequenceNumber !== LEASE_START).map((line) => line.data)));
}

async function waitForAll(expected: string[], workerIds: string[]): Promise<void> {
  await pollUntil(`${expected.length} records processed`, () => expected.every((d) => processedData(workerIds).has(d)), {
    ...WAIT,
    describe: () => `${expected.filter((d) => processedData(workerIds).has(d)).length} processed`,
  });
}

const owners = (leases: WireLease[]) => new Map(leases.map((l) => [l.ShardId, l.LeaseOwner]));

describe.each(['polling', 'fan-out'] as const)('consumer library: a group of worker processes reading by %s', (readMode) => {
  beforeEach(async () => {
    dir = await makeTempDir();
    await startCollectorProcess();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    client.destroy();
    leasesApi.close();
    await collector.stop();
    await dir.remove();
  });

  it('balances shards over three workers, moves a killed worker’s shards without skipping records, and checkpoints durably', async () => {
    await createActiveStream(client, STREAM, 6);
    const first = await putRecords('a', 600);
    const ids = ['w1', 'w2', 'w3'];
    for (const id of ids) await startWorker(id, readMode);

    // Balanced: two shards each.
    await pollUntil(
      'two leases per worker',
      async () => {
        const current = [...owners(await leasesApi.listLeases(APP, STREAM)).values()];
        return ids.every((id) => current.filter((o) => o === id).length === 2);
      },
      WAIT,
    );
    await waitForAll(first, ids);

    // w2 dies without a chance to checkpoint or release; its leases expire and move.
    const w2Shards = [...owners(await leasesApi.listLeases(APP, STREAM))].filter(([, o]) => o === 'w2').map(([shard]) => shard);
    await workers[1]!.kill();
    const second = await putRecords('b', 600);
    await pollUntil(
      'w2’s shards taken over',
      async () => {
        const now = owners(await leasesApi.listLeases(APP, STREAM));
        return w2Shards.every((shard) => now.get(shard) === 'w1' || now.get(shard) === 'w3');
      },
      WAIT,
    );
    await waitForAll([...first, ...second], ids);

    // In order per shard: each worker saw every shard's sequence numbers ascending while it held its lease.
    for (const id of ids) {
      const lastSeen = new Map<string, bigint>();
      for (const line of readProcessed(outFile(id))) {
        if (line.sequenceNumber === LEASE_START) {
          lastSeen.delete(line.shardId);
          continue;
        }
        const seq = BigInt(line.sequenceNumber);
        const before = lastSeen.get(line.shardId);
        if (before !== undefined && seq <= before) expect.fail(`${id} went back on ${line.shardId}: ${seq} after ${before}`);
        lastSeen.set(line.shardId, seq);
      }
    }

    // Graceful shutdown checkpoints the last records processed and releases the leases.
    for (const worker of [workers[0]!, workers[2]!]) expect(await worker.stop()).toBe(0);
    const checkpoints = (await leasesApi.listLeases(APP, STREAM)).map((l) => ({ shard: l.ShardId, checkpoint: l.Checkpoint, owner: l.LeaseOwner }));
    expect(checkpoints.every((c) => c.owner === undefined && c.checkpoint !== undefined)).toBe(true);

    // Checkpoints live in the collector's metadata store: a restart keeps them.
    await stopCollectorProcess();
    await startCollectorProcess();
    expect((await leasesApi.listLeases(APP, STREAM)).map((l) => ({ shard: l.ShardId, checkpoint: l.Checkpoint, owner: l.LeaseOwner }))).toEqual(checkpoints);

    // A new worker resumes after the checkpoints: it processes only what is new.
    const third = await putRecords('c', 30);
    await startWorker('w4', readMode);
    await waitForAll(third, ['w4']);
    expect([...processedData(['w4'])].sort()).toEqual([...third].sort());
  });

  it('reads a split shard’s children only after the parent, and opens KPL aggregates built by aws-kinesis-agg', async () => {
    await createActiveStream(client, STREAM);
    const parentRecords = await putRecords('parent', 50);
    await client.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (2n ** 127n).toString() }));
    await waitForStreamStatus(client, STREAM);
    const childRecords = await putRecords('child', 50);
    const aggregator = new awsKinesisAgg.RecordAggregator();
    const userRecords = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    for (const data of userRecords) aggregator.addUserRecord({ partitionKey: 'agg', data: Buffer.from(data) });
    const aggregated = aggregator.build();
    await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: aggregated.partitionKey, Data: aggregated.data }] }));

    await startWorker('solo', readMode);
    await waitForAll([...parentRecords, ...childRecords, ...userRecords], ['solo']);
    const lines = readProcessed(outFile('solo')).filter((line) => line.sequenceNumber !== LEASE_START);
    const lastParent = lines.map((l) => l.shardId).lastIndexOf('shardId-000000000000');
    const firstChild = lines.findIndex((l) => l.shardId !== 'shardId-000000000000');
    expect(lastParent).toBeLessThan(firstChild);
    const users = lines.filter((l) => l.data.startsWith('user-'));
    expect(users.map((l) => l.data)).toEqual(userRecords);
    expect(new Set(users.map((l) => l.sequenceNumber)).size).toBe(1);
    expect(users.map((l) => l.subSequenceNumber)).toEqual(userRecords.map((_, i) => i));
    const parentLease = (await leasesApi.listLeases(APP, STREAM)).find((l) => l.ShardId === 'shardId-000000000000');
    expect(parentLease?.Checkpoint).toBe('SHARD_END');
  });

  it('resumes inside a KPL aggregate after a checkpoint at a sub-sequence number', async () => {
    await createActiveStream(client, STREAM);
    const aggregator = new awsKinesisAgg.RecordAggregator();
    const userRecords = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    for (const data of userRecords) aggregator.addUserRecord({ partitionKey: 'agg', data: Buffer.from(data) });
    const aggregated = aggregator.build();
    await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: [{ PartitionKey: aggregated.partitionKey, Data: aggregated.data }] }));

    // The first worker checkpoints each user record and dies right after user-9.
    const first = await startWorker('first', readMode, { dieAfter: 'user-9' });
    await first.exited;
    const second = await startWorker('second', readMode);
    await waitForAll(userRecords.slice(10), ['second']);
    expect(processedData(['first'])).toEqual(new Set(userRecords.slice(0, 10)));
    expect([...processedData(['second'])]).toEqual(userRecords.slice(10));
    expect(second.child.exitCode).toBeNull();
  });
});

describe.each(['polling', 'fan-out'] as const)('consumer library: a worker with credentials only in its environment, reading by %s', (readMode) => {
  // The collector accepts this key alone, so any call the worker sends unsigned is refused
  // (MissingAuthenticationTokenException) and its records never arrive.
  const ambientKey = { accessKeyId: 'AKIDCONSUMERAMBIENT', secretAccessKey: 'consumer-ambient-secret' };

  beforeEach(async () => {
    dir = await makeTempDir();
    const config = join(dir.path, 'collector.json');
    await writeFile(config, JSON.stringify({ accessKeys: [ambientKey] }));
    collector = await startCollector(join(dir.path, 'data'), ['--config', config]);
    client = kinesisClient(collector.endpoint, { credentials: ambientKey });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    client.destroy();
    await collector.stop();
    await dir.remove();
  });

  it('signs lease calls and reads alike with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY', async () => {
    await createActiveStream(client, STREAM, 2);
    const records = await putRecords('ambient', 40);
    await startWorker('ambient', readMode, { env: { AWS_ACCESS_KEY_ID: ambientKey.accessKeyId, AWS_SECRET_ACCESS_KEY: ambientKey.secretAccessKey } });
    await waitForAll(records, ['ambient']);
  });
});
