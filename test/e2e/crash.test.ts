/**
 * The durability promise, tested the hard way: several SDK clients load a 4-shard stream, the
 * collector is SIGKILLed mid-load, and a new collector on the same data dir must hold every
 * acknowledged record exactly once, in order, byte for byte — and never reuse a sequence number.
 * Records that were in flight at the kill may or may not be there, but never twice.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  ListTagsForStreamCommand,
  PutRecordsCommand,
  type KinesisClient,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { kinesisClient, listAllShards, readFromIterator, readShard, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { hashRangeOf, md5HashKey, openShardFor } from '../helpers/shard-ranges.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const streamName = 'crash-load';
const tags = { owner: 'crash-test', site: 'lab' };
const retentionHours = 72;
const loaders = 4;
const recordsPerCall = 100;
/** Kill once this many records are acknowledged — a count, not a timer, so the test is as strong on a slow machine. */
const killAfterAcks = 3_000;

interface Acknowledged {
  partitionKey: string;
  shardId: string;
  sequenceNumber: string;
}

let dataDir: { path: string; remove: () => Promise<void> };
let first: CollectorProcess;
let second: CollectorProcess;
let client: KinesisClient;
let shardsBeforeCrash: Shard[];
/** Every record any loader sent, acknowledged or not: partition key (unique per record) → data. */
const sent = new Map<string, Buffer>();
const acknowledged: Acknowledged[] = [];
/** Each shard read from TRIM_HORIZON after the restart. */
const readAfterRestart = new Map<string, _Record[]>();

async function loadUntilKilled(loader: number, endpoint: string, kill: () => Promise<unknown>): Promise<void> {
  const loadClient = kinesisClient(endpoint, { transport: 'http1', maxAttempts: 1 });
  let killing: Promise<unknown> | undefined;
  try {
    for (let call = 0; acknowledged.length < killAfterAcks; call++) {
      const records = Array.from({ length: recordsPerCall }, (_, i) => {
        const partitionKey = `loader${loader}-call${call}-record${i}`;
        // Varied binary payloads led by their own key, so a torn or shifted record cannot pass for another.
        const data = Buffer.concat([Buffer.from(`${partitionKey}|`), randomBytes(randomInt(20, 2_000))]);
        sent.set(partitionKey, data);
        return { PartitionKey: partitionKey, Data: data };
      });
      let result;
      try {
        result = await loadClient.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
      } catch (error) {
        if (acknowledged.length >= killAfterAcks) return; // the kill cut this call off: its records are unacknowledged
        throw error;
      }
      result.Records!.forEach((entry, i) => {
        if (entry.SequenceNumber !== undefined) acknowledged.push({ partitionKey: records[i]!.PartitionKey, shardId: entry.ShardId!, sequenceNumber: entry.SequenceNumber });
      });
    }
    killing = kill();
  } finally {
    loadClient.destroy();
    await killing;
  }
}

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-crash-');
  // The load is far above 1,000 records/s per shard; throughput limits are not what this test is about.
  first = await startCollector(dataDir.path, ['--shard-limits', 'off']);
  const setupClient = kinesisClient(first.endpoint, { transport: 'http1' });
  try {
    await setupClient.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 4 }));
    await waitForStreamStatus(setupClient, streamName);
    await setupClient.send(new AddTagsToStreamCommand({ StreamName: streamName, Tags: tags }));
    await setupClient.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: retentionHours }));
    shardsBeforeCrash = await listAllShards(setupClient, streamName);
  } finally {
    setupClient.destroy();
  }

  // The first loader past the threshold kills the process while the others still have calls in flight.
  let killed: Promise<unknown> | undefined;
  const kill = () => (killed ??= first.kill());
  await Promise.all(Array.from({ length: loaders }, (_, loader) => loadUntilKilled(loader, first.endpoint, kill)));
  await killed;

  second = await startCollector(dataDir.path, ['--shard-limits', 'off']);
  client = kinesisClient(second.endpoint, { transport: 'http1' });
  await waitForStreamStatus(client, streamName);
  for (const shard of shardsBeforeCrash) readAfterRestart.set(shard.ShardId!, (await readShard(client, streamName, shard.ShardId!)).records);
});

afterAll(async () => {
  client?.destroy();
  await first?.kill();
  await second?.stop();
  await dataDir?.remove();
});

describe('SIGKILL mid-load, then a restart on the same data dir', () => {
  it('killed the first collector with SIGKILL after enough acknowledgements', () => {
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfterAcks);
  });

  it('keeps the stream metadata: shards, tags, retention', async () => {
    const summary = await waitForStreamStatus(client, streamName);
    expect(summary.RetentionPeriodHours).toBe(retentionHours);
    expect(summary.OpenShardCount).toBe(4);
    expect(await listAllShards(client, streamName)).toEqual(shardsBeforeCrash);
    const listed = await client.send(new ListTagsForStreamCommand({ StreamName: streamName }));
    expect(Object.fromEntries(listed.Tags!.map((t) => [t.Key, t.Value]))).toEqual(tags);
  });

  it('holds every acknowledged record exactly once, on its shard, with its sequence number and bytes', () => {
    const found = new Map<string, { shardId: string; record: _Record }>();
    const duplicates: string[] = [];
    for (const [shardId, records] of readAfterRestart) {
      for (const record of records) {
        if (found.has(record.PartitionKey!)) duplicates.push(record.PartitionKey!);
        found.set(record.PartitionKey!, { shardId, record });
      }
    }
    expect(duplicates).toEqual([]);

    const problems: string[] = [];
    for (const ack of acknowledged) {
      const hit = found.get(ack.partitionKey);
      if (!hit) problems.push(`${ack.partitionKey} (${ack.sequenceNumber}) is missing`);
      else if (hit.shardId !== ack.shardId || hit.record.SequenceNumber !== ack.sequenceNumber) {
        problems.push(`${ack.partitionKey} was acknowledged as ${ack.shardId}/${ack.sequenceNumber} but read as ${hit.shardId}/${hit.record.SequenceNumber}`);
      } else if (!Buffer.from(hit.record.Data!).equals(sent.get(ack.partitionKey)!)) problems.push(`${ack.partitionKey} has different bytes`);
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  it('holds nothing that was not sent, intact and routed by MD5, in strictly increasing sequence order per shard', () => {
    const problems: string[] = [];
    for (const [shardId, records] of readAfterRestart) {
      let previous = -1n;
      for (const record of records) {
        const sequence = BigInt(record.SequenceNumber!);
        if (sequence <= previous) problems.push(`${shardId}: ${record.SequenceNumber} does not follow ${previous}`);
        previous = sequence;
        const data = sent.get(record.PartitionKey!);
        if (!data) problems.push(`${shardId}: record ${record.SequenceNumber} has partition key ${JSON.stringify(record.PartitionKey)} that was never sent`);
        else if (!Buffer.from(record.Data!).equals(data)) problems.push(`${shardId}: record ${record.PartitionKey} is not the bytes sent`);
        else if (openShardFor(shardsBeforeCrash, md5HashKey(record.PartitionKey!)).ShardId !== shardId) problems.push(`${record.PartitionKey} is on the wrong shard`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    const total = [...readAfterRestart.values()].reduce((sum, records) => sum + records.length, 0);
    expect(total).toBeGreaterThanOrEqual(acknowledged.length);
  });

  it('gives new records sequence numbers above every earlier one, never reusing one', async () => {
    const entries = shardsBeforeCrash.map((shard, i) => ({
      PartitionKey: `after-restart-${i}`,
      ExplicitHashKey: hashRangeOf(shard).start.toString(),
      Data: randomBytes(64),
    }));
    const result = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    expect(result.FailedRecordCount).toBe(0);
    for (const [i, shard] of shardsBeforeCrash.entries()) {
      const entry = result.Records![i]!;
      expect(entry.ShardId).toBe(shard.ShardId);
      const before = [
        ...readAfterRestart.get(shard.ShardId!)!.map((r) => BigInt(r.SequenceNumber!)),
        ...acknowledged.filter((a) => a.shardId === shard.ShardId).map((a) => BigInt(a.sequenceNumber)),
      ];
      const highestBefore = before.reduce((max, s) => (s > max ? s : max), -1n);
      expect(BigInt(entry.SequenceNumber!) > highestBefore, `${shard.ShardId}: ${entry.SequenceNumber} after ${highestBefore}`).toBe(true);

      // And the new record is what follows the old ones on that shard.
      const last = readAfterRestart.get(shard.ShardId!)!.at(-1);
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ...(last ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: last.SequenceNumber } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      const tail = await readFromIterator(client, ShardIterator!);
      expect(tail.records.map((r) => [r.SequenceNumber, Buffer.from(r.Data!).toString('hex')])).toEqual([[entry.SequenceNumber, Buffer.from(entries[i]!.Data).toString('hex')]]);
    }
  });
});
