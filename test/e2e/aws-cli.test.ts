/**
 * The Debian AWS CLI v2 (botocore, HTTP/1.1, its own serializers) against the real collector:
 * a stream's life cycle command by command, and an AWS error as the CLI reports it.
 *
 * Each CLI start costs most of a second of Python, so the calls are few: waiting for a stream
 * status and looking shards up between reshards go through the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { awsCli, awsCliJson, awsCliPresent as cliPresent, runAwsCli, type AwsCliResult } from '../helpers/aws-cli.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { kinesisClient, listAllShards, waitForStreamGone, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { hashRangeOf, isOpen, md5HashKey, openShardFor, tilingProblems } from '../helpers/shard-ranges.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let sdk: KinesisClient;

function runCli(args: string[]): Promise<AwsCliResult> {
  return runAwsCli('kinesis', args, { endpoint: collector.endpoint, home: dataDir.path });
}

async function cli<T = Record<string, any>>(...args: string[]): Promise<T> {
  return awsCliJson<T>('kinesis', args, { endpoint: collector.endpoint, home: dataDir.path });
}

describe.skipIf(!cliPresent)(cliPresent ? 'AWS CLI v2 against the collector' : `AWS CLI v2 against the collector — SKIPPED: ${awsCli} is missing (CI installs Debian's awscli)`, () => {
  const streamName = 'cli-stream';

  beforeAll(async () => {
    dataDir = await makeTempDir('riffle-e2e-cli-');
    collector = await startCollector(dataDir.path, ['--shard-limits', 'off']);
    sdk = kinesisClient(collector.endpoint, { transport: 'http1' });
  });

  afterAll(async () => {
    sdk?.destroy();
    await collector?.stop();
    await dataDir?.remove();
  });

  it('creates, describes and lists a stream', async () => {
    expect(await cli('create-stream', '--stream-name', streamName, '--shard-count', '2')).toBeUndefined();
    await waitForStreamStatus(sdk, streamName);
    const [summary, listing] = await Promise.all([cli('describe-stream-summary', '--stream-name', streamName), cli('list-streams')]);
    expect(summary.StreamDescriptionSummary).toMatchObject({ StreamName: streamName, StreamStatus: 'ACTIVE', OpenShardCount: 2, RetentionPeriodHours: 24 });
    expect(listing.StreamNames).toContain(streamName);
  });

  it('puts records and reads them back with get-shard-iterator and get-records', async () => {
    const texts = ['first record', 'second record ✓', '{"temperature": 21.5}'];
    const [single, batch, listed] = await Promise.all([
      cli('put-record', '--stream-name', streamName, '--partition-key', 'pk-single', '--data', texts[0]!, '--cli-binary-format', 'raw-in-base64-out'),
      cli(
        'put-records',
        '--stream-name',
        streamName,
        '--records',
        JSON.stringify(texts.slice(1).map((text, i) => ({ Data: text, PartitionKey: `pk-batch-${i}` }))),
        '--cli-binary-format',
        'raw-in-base64-out',
      ),
      cli('list-shards', '--stream-name', streamName),
    ]);
    expect(batch.FailedRecordCount).toBe(0);
    expect(listed.Shards).toHaveLength(2);
    expect(tilingProblems(listed.Shards)).toEqual([]);

    const puts = [
      { partitionKey: 'pk-single', text: texts[0]!, shardId: single.ShardId as string, sequenceNumber: single.SequenceNumber as string },
      ...batch.Records.map((r: { ShardId: string; SequenceNumber: string }, i: number) => ({ partitionKey: `pk-batch-${i}`, text: texts[i + 1]!, shardId: r.ShardId, sequenceNumber: r.SequenceNumber })),
    ];
    for (const put of puts) expect(put.shardId, `${put.partitionKey} routed by MD5`).toBe(openShardFor(listed.Shards, md5HashKey(put.partitionKey)).ShardId);

    // Read the shard holding the most records; the CLI prints blobs base64-encoded.
    const countOn = (shardId: string) => puts.filter((p) => p.shardId === shardId).length;
    const shardId = puts.map((p) => p.shardId).sort((a, b) => countOn(b) - countOn(a))[0]!;
    const expected = puts.filter((p) => p.shardId === shardId).sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1));
    const { ShardIterator } = await cli('get-shard-iterator', '--stream-name', streamName, '--shard-id', shardId, '--shard-iterator-type', 'TRIM_HORIZON');
    const page = await cli('get-records', '--shard-iterator', ShardIterator);
    expect(page.Records.map((r: any) => ({ partitionKey: r.PartitionKey, text: Buffer.from(r.Data, 'base64').toString('utf8'), sequenceNumber: r.SequenceNumber }))).toEqual(
      expected.map(({ partitionKey, text, sequenceNumber }) => ({ partitionKey, text, sequenceNumber })),
    );
    expect(page.NextShardIterator).toEqual(expect.any(String));
    expect(page.MillisBehindLatest).toBe(0);
  });

  it('splits, merges and rescales shards', async () => {
    // The CLI's list-shards was checked above; shard lookups between the steps go through the SDK.
    const parent = (await listAllShards(sdk, streamName))[0]!;
    const { start, end } = hashRangeOf(parent);
    await cli('split-shard', '--stream-name', streamName, '--shard-to-split', parent.ShardId!, '--new-starting-hash-key', (start + (end - start) / 2n + 1n).toString());
    await waitForStreamStatus(sdk, streamName);

    const children = (await listAllShards(sdk, streamName)).filter((s) => s.ParentShardId === parent.ShardId);
    expect(children).toHaveLength(2);
    await cli('merge-shards', '--stream-name', streamName, '--shard-to-merge', children[0]!.ShardId!, '--adjacent-shard-to-merge', children[1]!.ShardId!);
    await waitForStreamStatus(sdk, streamName);

    const scaled = await cli('update-shard-count', '--stream-name', streamName, '--target-shard-count', '4', '--scaling-type', 'UNIFORM_SCALING');
    expect(scaled).toMatchObject({ StreamName: streamName, CurrentShardCount: 2, TargetShardCount: 4 });
    await waitForStreamStatus(sdk, streamName);

    const final = await listAllShards(sdk, streamName);
    const merged = final.find((s) => s.ParentShardId === children[0]!.ShardId);
    expect(merged?.AdjacentParentShardId).toBe(children[1]!.ShardId);
    expect(final.filter(isOpen)).toHaveLength(4);
    expect(tilingProblems(final)).toEqual([]);
  });

  it('tags the stream and changes its retention period', async () => {
    await cli('add-tags-to-stream', '--stream-name', streamName, '--tags', 'team=edge,site=lab');
    const [listed] = await Promise.all([
      cli('list-tags-for-stream', '--stream-name', streamName),
      cli('increase-stream-retention-period', '--stream-name', streamName, '--retention-period-hours', '48'),
    ]);
    expect([...listed.Tags].sort((a: any, b: any) => (a.Key < b.Key ? -1 : 1))).toEqual([
      { Key: 'site', Value: 'lab' },
      { Key: 'team', Value: 'edge' },
    ]);
    expect((await waitForStreamStatus(sdk, streamName)).RetentionPeriodHours).toBe(48);
    await cli('decrease-stream-retention-period', '--stream-name', streamName, '--retention-period-hours', '24');
    expect((await waitForStreamStatus(sdk, streamName)).RetentionPeriodHours).toBe(24);
  });

  it('deletes the stream; then describing it fails with the AWS error code and a non-zero exit', async () => {
    await cli('delete-stream', '--stream-name', streamName);
    await waitForStreamGone(sdk, streamName);
    const missing = await runCli(['describe-stream-summary', '--stream-name', streamName]);
    // AWS CLI v2 exits 254 when the service answered with an error.
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toContain('ResourceNotFoundException');
  });
});
