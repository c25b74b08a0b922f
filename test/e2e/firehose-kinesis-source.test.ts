/**
 * KinesisStreamAsSource through the real collector: a Riffle stream (written with the Kinesis
 * SDK) delivered into local buckets from LATEST and from TRIM_HORIZON, across a shard split
 * (the children followed; one key's records in order within each object), and across kill -9
 * with nothing lost.
 */
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus, type LocalObject } from '../helpers/firehose.js';
import { kinesisClient, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let firehose: FirehoseClient;
let kinesis: KinesisClient;

const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/source';
const keys = ['alpha', 'bravo', 'charlie', 'delta'];

function connect(): void {
  firehose = firehoseClient(collector.endpoint);
  kinesis = kinesisClient(collector.endpoint);
}

async function putRound(label: string): Promise<string[]> {
  const lines = keys.map((key) => `${label}:${key}`);
  const result = await kinesis.send(new PutRecordsCommand({ StreamName: 'source', Records: lines.map((line, i) => ({ PartitionKey: keys[i]!, Data: Buffer.from(line) })) }));
  expect(result.FailedRecordCount).toBe(0);
  return lines;
}

async function createDeliveryStream(name: string, tags: Array<{ Key: string; Value: string }> = []): Promise<void> {
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: streamArn, RoleARN: 'arn:aws:iam::000000000000:role/r' },
      ExtendedS3DestinationConfiguration: {
        BucketARN: `arn:aws:s3:::${name}`,
        RoleARN: 'arn:aws:iam::000000000000:role/r',
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
        ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord' }] },
      },
      ...(tags.length > 0 ? { Tags: tags } : {}),
    }),
  );
  await waitForDeliveryStreamStatus(firehose, name);
}

interface Delivered {
  /** Keys of the objects read, so a later wait can ask for objects written since. */
  keys: Set<string>;
  lines: string[];
}

/**
 * The records of the bucket's objects not in `before`, once there are at least `count`. Object
 * order is not observable (see listLocalObjects): record order is checked within each object.
 */
async function delivered(bucket: string, count: number, before: ReadonlySet<string> = new Set()): Promise<Delivered> {
  const read = async () => (await listLocalObjects(dataDir.path, bucket)).filter((object) => !before.has(object.key));
  const found = await pollUntil(`${count} records in ${bucket}`, async () => {
    const objects = await read();
    return objects.flatMap(linesOf).length >= count ? objects : undefined;
  }, { describe: async () => JSON.stringify((await read()).map(linesOf)) });
  for (const object of found) {
    for (const labels of Object.values(labelsByKey(linesOf(object)))) expect(labels).toEqual([...labels].sort((a, b) => rounds.indexOf(a) - rounds.indexOf(b)));
  }
  return { keys: new Set([...before, ...found.map((object) => object.key)]), lines: found.flatMap(linesOf) };
}

const rounds = ['old', 'new', 'split', 'restart'];

function linesOf(object: LocalObject): string[] {
  return object.body.toString().split('\n').filter(Boolean);
}

/** For each key, the labels of its records in order. */
function labelsByKey(lines: string[]): Record<string, string[]> {
  const byKey: Record<string, string[]> = {};
  for (const line of lines) {
    const [label, key] = line.split(':') as [string, string];
    (byKey[key] ??= []).push(label);
  }
  return byKey;
}

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-kinesis-');
  collector = await startCollector(dataDir.path, ['--shard-limits', 'off']);
  connect();
  await kinesis.send(new CreateStreamCommand({ StreamName: 'source', ShardCount: 2 }));
  await waitForStreamStatus(kinesis, 'source');
});

afterAll(async () => {
  firehose?.destroy();
  kinesis?.destroy();
  await collector?.stop();
  await dataDir?.remove();
});

describe('KinesisStreamAsSource', () => {
  it('delivers from LATEST and from TRIM_HORIZON, following a shard split, and survives kill -9', async () => {
    // Each round waits for the one before it in from-start: records of one key are in order
    // within an object, and a round's objects are all written before the next round is put.
    const old = await putRound('old');
    await createDeliveryStream('from-latest');
    await createDeliveryStream('from-start', [{ Key: 'riffle:starting-position', Value: 'TRIM_HORIZON' }]);
    const startOld = await delivered('from-start', 4);
    expect(startOld.lines.sort()).toEqual([...old].sort());
    const fresh = await putRound('new');
    const latestNew = await delivered('from-latest', 4);
    expect(latestNew.lines.sort()).toEqual([...fresh].sort());
    const startNew = await delivered('from-start', 4, startOld.keys);
    expect(startNew.lines.sort()).toEqual([...fresh].sort());

    await kinesis.send(new SplitShardCommand({ StreamName: 'source', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (1n << 126n).toString() }));
    await waitForStreamStatus(kinesis, 'source');
    const afterSplit = await putRound('split');

    // A stream-sourced delivery stream takes no direct puts.
    const refused = await firehose.send(new PutRecordCommand({ DeliveryStreamName: 'from-latest', Record: { Data: Buffer.from('x') } })).catch((error: Error) => error);
    expect((refused as Error).name).toBe('InvalidArgumentException');

    // The split's records come from the children (and the parent left open), once each.
    expect((await delivered('from-start', 4, startNew.keys)).lines.sort()).toEqual([...afterSplit].sort());
    expect((await delivered('from-latest', 4, latestNew.keys)).lines.sort()).toEqual([...afterSplit].sort());
    expect((await delivered('from-start', 12)).lines.sort()).toEqual([...old, ...fresh, ...afterSplit].sort());
    expect((await delivered('from-latest', 8)).lines.sort()).toEqual([...fresh, ...afterSplit].sort());

    firehose.destroy();
    kinesis.destroy();
    await collector.kill();
    collector = await startCollector(dataDir.path, ['--shard-limits', 'off']);
    connect();
    const afterRestart = await putRound('restart');
    const final = (await delivered('from-latest', 12)).lines;
    // At least once: everything arrives; a read in flight at the kill may arrive twice.
    expect(new Set(final)).toEqual(new Set([...fresh, ...afterSplit, ...afterRestart]));
  });
});
