import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { MAX_HASH_KEY } from '../../shared/hash-key.js';
import { addTagsToStream } from '../../collector/api/kinesis/add-tags-to-stream.js';
import { createStream } from '../../collector/api/kinesis/create-stream.js';
import { decreaseStreamRetentionPeriod } from '../../collector/api/kinesis/decrease-stream-retention-period.js';
import { deleteResourcePolicy } from '../../collector/api/kinesis/delete-resource-policy.js';
import { deleteStream } from '../../collector/api/kinesis/delete-stream.js';
import { describeAccountSettings } from '../../collector/api/kinesis/describe-account-settings.js';
import { describeLimits } from '../../collector/api/kinesis/describe-limits.js';
import { describeStreamSummary } from '../../collector/api/kinesis/describe-stream-summary.js';
import { describeStream } from '../../collector/api/kinesis/describe-stream.js';
import { disableEnhancedMonitoring } from '../../collector/api/kinesis/disable-enhanced-monitoring.js';
import { enableEnhancedMonitoring } from '../../collector/api/kinesis/enable-enhanced-monitoring.js';
import { getResourcePolicy } from '../../collector/api/kinesis/get-resource-policy.js';
import { increaseStreamRetentionPeriod } from '../../collector/api/kinesis/increase-stream-retention-period.js';
import { kinesisOperations } from '../../collector/api/kinesis/index.js';
import { listShards } from '../../collector/api/kinesis/list-shards.js';
import { listStreams } from '../../collector/api/kinesis/list-streams.js';
import { listTagsForResource } from '../../collector/api/kinesis/list-tags-for-resource.js';
import { listTagsForStream } from '../../collector/api/kinesis/list-tags-for-stream.js';
import { mergeShards } from '../../collector/api/kinesis/merge-shards.js';
import { NEXT_TOKEN_LIFETIME_MS } from '../../collector/api/kinesis/next-token.js';
import type { KinesisOperation } from '../../collector/api/kinesis/operation.js';
import { putRecord } from '../../collector/api/kinesis/put-record.js';
import { putResourcePolicy } from '../../collector/api/kinesis/put-resource-policy.js';
import { removeTagsFromStream } from '../../collector/api/kinesis/remove-tags-from-stream.js';
import { splitShard } from '../../collector/api/kinesis/split-shard.js';
import { startStreamEncryption } from '../../collector/api/kinesis/start-stream-encryption.js';
import { stopStreamEncryption } from '../../collector/api/kinesis/stop-stream-encryption.js';
import { tagResource } from '../../collector/api/kinesis/tag-resource.js';
import { untagResource } from '../../collector/api/kinesis/untag-resource.js';
import { MINIMUM_COMMITMENT_MS, updateAccountSettings } from '../../collector/api/kinesis/update-account-settings.js';
import { updateMaxRecordSize } from '../../collector/api/kinesis/update-max-record-size.js';
import { updateShardCount } from '../../collector/api/kinesis/update-shard-count.js';
import { updateStreamMode } from '../../collector/api/kinesis/update-stream-mode.js';
import { updateStreamWarmThroughput } from '../../collector/api/kinesis/update-stream-warm-throughput.js';
import { DEFAULT_RETENTION_HOURS, MAX_RETENTION_HOURS, ON_DEMAND_INITIAL_SHARDS, StreamStore, type StoreOptions } from '../../collector/store/streams.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const HOUR_MS = 3600_000;

/** The shard-level metrics EnableEnhancedMonitoring documents; "ALL" stands for these. */
const ALL_SHARD_LEVEL_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
];

interface WireShard {
  ShardId: string;
  ParentShardId?: string;
  AdjacentParentShardId?: string;
  HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
  SequenceNumberRange: { StartingSequenceNumber: string; EndingSequenceNumber?: string };
}

let dir: { path: string; remove: () => Promise<void> };
let clock: ManualClock;
let store: StreamStore;

const storeOptions = (overrides: Partial<StoreOptions> = {}): StoreOptions => ({
  dataDir: dir.path,
  clock,
  region: 'us-east-1',
  accountId: '123456789012',
  shardLimits: { enabled: false },
  statusDelayMs: 0,
  shardLimit: 200,
  onDemandStreamCountLimit: 3,
  log: () => undefined,
  ...overrides,
});

/** Runs an operation's handler on input the model would have accepted; outputs are read loosely, as wire objects. */
function call<Input>(operation: KinesisOperation<Input>, input: Input): Promise<any> {
  return operation.handle(input, { store, requestId: 'test-request' });
}

async function summary(name: string) {
  return (await call(describeStreamSummary, { StreamName: name })).StreamDescriptionSummary;
}

/** Transitions finish after level writes and shard-log closes; polling yields to them in between. */
const MAX_POLLS = 100_000;

async function untilActive(name: string): Promise<void> {
  for (let polls = 0; polls < MAX_POLLS; polls++) {
    if ((await summary(name)).StreamStatus === 'ACTIVE') return;
    await tick();
  }
  throw new Error(`stream ${name} never became ACTIVE`);
}

async function createActive(name: string, input: Partial<Parameters<typeof createStream.handle>[0]> = { ShardCount: 1 }): Promise<void> {
  await call(createStream, { StreamName: name, ...input });
  await untilActive(name);
}

async function allShards(name: string, filter?: Parameters<typeof listShards.handle>[0]['ShardFilter']): Promise<WireShard[]> {
  return (await call(listShards, { StreamName: name, ...(filter ? { ShardFilter: filter } : {}) })).Shards;
}

const ids = (shards: WireShard[]) => shards.map((shard) => shard.ShardId);

describe('Kinesis control-plane operations', () => {
  beforeEach(async () => {
    dir = await makeTempDir();
    clock = new ManualClock();
    store = await StreamStore.open(storeOptions());
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('runs a stream through its life cycle: create, describe, delete', async () => {
    const created = clock.now();
    await call(createStream, { StreamName: 'life', ShardCount: 3 });
    await untilActive('life');
    const { StreamDescription: description } = await call(describeStream, { StreamName: 'life' });
    expect(description).toMatchObject({
      StreamName: 'life',
      StreamARN: store.streamArn('life'),
      StreamStatus: 'ACTIVE',
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: DEFAULT_RETENTION_HOURS,
      StreamCreationTimestamp: new Date(created),
      EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
      EncryptionType: 'NONE',
      HasMoreShards: false,
    });
    expect(description).not.toHaveProperty('KeyId');
    const shards: WireShard[] = description.Shards;
    expect(shards).toHaveLength(3);
    // The shards cover the hash key space without gaps or overlaps.
    expect(BigInt(shards[0]!.HashKeyRange.StartingHashKey)).toBe(0n);
    expect(BigInt(shards[shards.length - 1]!.HashKeyRange.EndingHashKey)).toBe(MAX_HASH_KEY);
    for (let i = 1; i < shards.length; i++) {
      expect(BigInt(shards[i]!.HashKeyRange.StartingHashKey)).toBe(BigInt(shards[i - 1]!.HashKeyRange.EndingHashKey) + 1n);
    }
    expect(shards.every((shard) => shard.SequenceNumberRange.EndingSequenceNumber === undefined)).toBe(true);

    expect((await call(describeStream, { StreamARN: store.streamArn('life') })).StreamDescription.StreamName).toBe('life');
    await expect(call(createStream, { StreamName: 'life', ShardCount: 1 })).rejects.toMatchObject({ code: 'ResourceInUseException' });

    await call(deleteStream, { StreamName: 'life', EnforceConsumerDeletion: true });
    for (let polls = 0; store.listStreamNames().includes('life') && polls < MAX_POLLS; polls++) await tick();
    await expect(call(describeStream, { StreamName: 'life' })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(call(deleteStream, { StreamName: 'life' })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    expect((await call(listStreams, {})).StreamNames).not.toContain('life');
  });

  it('creates ON_DEMAND streams when asked or when no ShardCount is given, within the on-demand and shard quotas', async () => {
    await createActive('implicit', {});
    await createActive('explicit', { StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
    for (const name of ['implicit', 'explicit']) {
      const described = await summary(name);
      expect(described.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
      expect(described.OpenShardCount).toBe(ON_DEMAND_INITIAL_SHARDS);
    }
    await expect(call(createStream, { StreamName: 'no-count', StreamModeDetails: { StreamMode: 'PROVISIONED' } })).rejects.toMatchObject({
      code: 'InvalidArgumentException',
    });
    await createActive('third', {});
    await expect(call(createStream, { StreamName: 'fourth', StreamModeDetails: { StreamMode: 'ON_DEMAND' } })).rejects.toMatchObject({
      code: 'LimitExceededException',
    });
    const { OpenShardCount, ShardLimit } = await call(describeLimits, {});
    await expect(call(createStream, { StreamName: 'too-big', ShardCount: ShardLimit - OpenShardCount + 1 })).rejects.toMatchObject({
      code: 'LimitExceededException',
    });
  });

  it('reports limits and usage in DescribeLimits', async () => {
    await createActive('a', { ShardCount: 3 });
    await createActive('b', {});
    expect(await call(describeLimits, {})).toEqual({
      ShardLimit: storeOptions().shardLimit,
      OpenShardCount: 3 + ON_DEMAND_INITIAL_SHARDS,
      OnDemandStreamCount: 1,
      OnDemandStreamCountLimit: storeOptions().onDemandStreamCountLimit,
    });
  });

  it('pages DescribeStream and ListShards, capping pages at 100 and 1000 shards', async () => {
    const count = 120;
    await createActive('wide', { ShardCount: count });
    const everything = ids(await allShards('wide'));
    expect(everything).toHaveLength(count);

    const first = (await call(describeStream, { StreamName: 'wide', Limit: 10_000 })).StreamDescription;
    expect(first.Shards).toHaveLength(100);
    expect(first.HasMoreShards).toBe(true);
    const paged: string[] = [];
    let after: string | undefined;
    for (let more = true; more; ) {
      const page = (await call(describeStream, { StreamName: 'wide', Limit: 7, ...(after ? { ExclusiveStartShardId: after } : {}) })).StreamDescription;
      paged.push(...ids(page.Shards));
      after = paged[paged.length - 1];
      more = page.HasMoreShards;
    }
    expect(paged).toEqual(everything);

    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await call(listShards, token ? { NextToken: token, MaxResults: 50 } : { StreamName: 'wide', MaxResults: 50 });
      listed.push(...ids(page.Shards));
      token = page.NextToken;
    } while (token);
    expect(listed).toEqual(everything);
    expect(ids((await call(listShards, { StreamName: 'wide', ExclusiveStartShardId: everything[99]! })).Shards)).toEqual(everything.slice(100));
  });

  it('pages ListStreams by ExclusiveStartStreamName and NextToken, whose tokens expire', async () => {
    const names = ['e', 'c', 'a', 'd', 'b'];
    for (const name of names) await createActive(name);
    const sorted = [...names].sort();

    const first = await call(listStreams, { Limit: 2 });
    expect(first.StreamNames).toEqual(sorted.slice(0, 2));
    expect(first.HasMoreStreams).toBe(true);
    expect(first.StreamSummaries[0]).toEqual({
      StreamName: sorted[0],
      StreamARN: store.streamArn(sorted[0]!),
      StreamStatus: 'ACTIVE',
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      StreamCreationTimestamp: new Date(clock.now()),
    });
    const second = await call(listStreams, { Limit: 2, NextToken: first.NextToken });
    expect(second.StreamNames).toEqual(sorted.slice(2, 4));
    const last = await call(listStreams, { ExclusiveStartStreamName: second.StreamNames[1] });
    expect(last.StreamNames).toEqual(sorted.slice(4));
    expect(last.HasMoreStreams).toBe(false);
    expect(last).not.toHaveProperty('NextToken');

    await expect(call(listStreams, { NextToken: first.NextToken, ExclusiveStartStreamName: 'a' })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    await expect(call(listStreams, { NextToken: 'not-a-token' })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    clock.advance(NEXT_TOKEN_LIFETIME_MS + 1);
    await expect(call(listStreams, { NextToken: first.NextToken })).rejects.toMatchObject({ code: 'ExpiredNextTokenException' });
  });

  describe('ListShards after a split and a merge', () => {
    let created: number;
    let split: number;
    let merged: number;
    let originals: WireShard[];
    let splitChildren: WireShard[];
    let mergeChild: WireShard;

    beforeEach(async () => {
      created = clock.now();
      await createActive('lineage', { ShardCount: 2 });
      const [low, high] = await allShards('lineage');
      clock.advance(1000);
      split = clock.now();
      const middle = (BigInt(low!.HashKeyRange.StartingHashKey) + BigInt(low!.HashKeyRange.EndingHashKey) + 1n) / 2n;
      await call(splitShard, { StreamName: 'lineage', ShardToSplit: low!.ShardId, NewStartingHashKey: middle.toString() });
      await untilActive('lineage');
      const upperHalf = (await allShards('lineage')).find((shard) => shard.ParentShardId === low!.ShardId && shard.HashKeyRange.EndingHashKey === low!.HashKeyRange.EndingHashKey)!;
      clock.advance(1000);
      merged = clock.now();
      await call(mergeShards, { StreamName: 'lineage', ShardToMerge: upperHalf.ShardId, AdjacentShardToMerge: high!.ShardId });
      await untilActive('lineage');
      clock.advance(1000);

      const shards = await allShards('lineage');
      originals = shards.filter((shard) => shard.ParentShardId === undefined);
      splitChildren = shards.filter((shard) => shard.ParentShardId === low!.ShardId);
      mergeChild = shards.find((shard) => shard.AdjacentParentShardId !== undefined)!;
      expect(originals).toHaveLength(2);
      expect(splitChildren).toHaveLength(2);
      expect([mergeChild.ParentShardId, mergeChild.AdjacentParentShardId]).toEqual([upperHalf.ShardId, high!.ShardId]);
    });

    const open = (shards: WireShard[]) => shards.filter((shard) => shard.SequenceNumberRange.EndingSequenceNumber === undefined);

    it('lists every retained shard by default and with FROM_TRIM_HORIZON, closed ones with an ending sequence number', async () => {
      const shards = await allShards('lineage');
      expect(shards).toHaveLength(5);
      expect(ids(await allShards('lineage', { Type: 'FROM_TRIM_HORIZON' }))).toEqual(ids(shards));
      // The lower split child and the merge child are the open ones.
      const lowerHalf = splitChildren.find((shard) => shard.HashKeyRange.StartingHashKey === originals[0]!.HashKeyRange.StartingHashKey)!;
      expect(ids(open(shards))).toEqual([lowerHalf.ShardId, mergeChild.ShardId]);
    });

    it('AT_LATEST lists the open shards, AT_TRIM_HORIZON those open when the stream began', async () => {
      expect(ids(await allShards('lineage', { Type: 'AT_LATEST' }))).toEqual(ids(open(await allShards('lineage'))));
      expect(ids(await allShards('lineage', { Type: 'AT_TRIM_HORIZON' }))).toEqual(ids(originals));
    });

    it('AT_TIMESTAMP lists the shards open at that time, FROM_TIMESTAMP also every later one; earlier times mean the trim horizon', async () => {
      const betweenSplitAndMerge = new Date(split + (merged - split) / 2);
      const highOriginal = originals[1]!;
      expect(ids(await allShards('lineage', { Type: 'AT_TIMESTAMP', Timestamp: betweenSplitAndMerge }))).toEqual(ids([highOriginal, ...splitChildren]));
      expect(ids(await allShards('lineage', { Type: 'FROM_TIMESTAMP', Timestamp: betweenSplitAndMerge }))).toEqual(ids([highOriginal, ...splitChildren, mergeChild]));
      const beforeCreation = new Date(created - 10 * HOUR_MS);
      expect(ids(await allShards('lineage', { Type: 'AT_TIMESTAMP', Timestamp: beforeCreation }))).toEqual(ids(originals));
      expect(ids(await allShards('lineage', { Type: 'FROM_TIMESTAMP', Timestamp: beforeCreation }))).toEqual(ids(await allShards('lineage')));
    });

    it('AFTER_SHARD_ID and ExclusiveStartShardId list the shards after the one named', async () => {
      const shards = await allShards('lineage');
      const after = shards[2]!.ShardId;
      expect(ids(await allShards('lineage', { Type: 'AFTER_SHARD_ID', ShardId: after }))).toEqual(ids(shards.slice(3)));
      expect(ids((await call(listShards, { StreamName: 'lineage', ExclusiveStartShardId: after })).Shards)).toEqual(ids(shards.slice(3)));
    });

    it('drops closed shards once their records passed the retention period', async () => {
      clock.set(merged + DEFAULT_RETENTION_HOURS * HOUR_MS + 1);
      const remaining = await allShards('lineage');
      expect(remaining.every((shard) => shard.SequenceNumberRange.EndingSequenceNumber === undefined)).toBe(true);
      expect(remaining).toHaveLength(2);
      expect(ids(await allShards('lineage', { Type: 'AT_TRIM_HORIZON' }))).toEqual(ids(remaining));
    });

    it('carries the filter in the NextToken and refuses tokens mixed with stream parameters, or expired', async () => {
      const first = await call(listShards, { StreamName: 'lineage', ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 1 });
      const second = await call(listShards, { NextToken: first.NextToken });
      expect([...ids(first.Shards), ...ids(second.Shards)]).toEqual(ids(open(await allShards('lineage'))));
      expect(second).not.toHaveProperty('NextToken');

      expect(listShards.resource({ NextToken: first.NextToken }, { store, requestId: 'r' })).toBe(store.streamArn('lineage'));
      await expect(call(listShards, { NextToken: first.NextToken, StreamName: 'lineage' })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
      await expect(call(listShards, { NextToken: first.NextToken, ExclusiveStartShardId: originals[0]!.ShardId })).rejects.toMatchObject({
        code: 'InvalidArgumentException',
      });
      await expect(call(listShards, {})).rejects.toMatchObject({ code: 'InvalidArgumentException' });
      clock.advance(NEXT_TOKEN_LIFETIME_MS + 1);
      await expect(call(listShards, { NextToken: first.NextToken })).rejects.toMatchObject({ code: 'ExpiredNextTokenException' });
    });

    it('checks StreamCreationTimestamp and the ShardFilter members each type needs', async () => {
      expect(await call(listShards, { StreamName: 'lineage', StreamCreationTimestamp: new Date(created) })).toHaveProperty('Shards');
      await expect(call(listShards, { StreamName: 'lineage', StreamCreationTimestamp: new Date(created - 5000) })).rejects.toMatchObject({
        code: 'ResourceNotFoundException',
      });
      for (const ShardFilter of [
        { Type: 'AFTER_SHARD_ID' as const },
        { Type: 'AT_TIMESTAMP' as const },
        { Type: 'FROM_TIMESTAMP' as const },
        { Type: 'AT_LATEST' as const, Timestamp: new Date(created) },
        { Type: 'AT_TRIM_HORIZON' as const, ShardId: originals[0]!.ShardId },
      ]) {
        await expect(call(listShards, { StreamName: 'lineage', ShardFilter })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
      }
    });
  });

  it('UpdateShardCount reshards uniformly and reports the counts', async () => {
    await createActive('scale', { ShardCount: 2 });
    expect(await call(updateShardCount, { StreamName: 'scale', TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' })).toEqual({
      StreamName: 'scale',
      StreamARN: store.streamArn('scale'),
      CurrentShardCount: 2,
      TargetShardCount: 4,
    });
    await untilActive('scale');
    expect((await summary('scale')).OpenShardCount).toBe(4);
    expect(await allShards('scale', { Type: 'AT_LATEST' })).toHaveLength(4);
  });

  it('refuses resharding an ON_DEMAND stream and switches capacity modes', async () => {
    await createActive('mode', { ShardCount: 2 });
    await expect(call(updateStreamMode, { StreamARN: store.streamArn('mode'), StreamModeDetails: { StreamMode: 'PROVISIONED' } })).rejects.toMatchObject({
      code: 'InvalidArgumentException',
    });
    await call(updateStreamMode, { StreamARN: store.streamArn('mode'), StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
    await untilActive('mode');
    expect((await summary('mode')).StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });

    const [first, second] = await allShards('mode');
    await expect(call(splitShard, { StreamName: 'mode', ShardToSplit: first!.ShardId, NewStartingHashKey: '1000' })).rejects.toMatchObject({ code: 'ValidationException' });
    await expect(call(mergeShards, { StreamName: 'mode', ShardToMerge: first!.ShardId, AdjacentShardToMerge: second!.ShardId })).rejects.toMatchObject({
      code: 'ValidationException',
    });
    await expect(call(updateShardCount, { StreamName: 'mode', TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' })).rejects.toMatchObject({ code: 'ValidationException' });
    await expect(
      call(updateStreamMode, { StreamARN: store.streamArn('mode'), StreamModeDetails: { StreamMode: 'PROVISIONED' }, WarmThroughputMiBps: 10 }),
    ).rejects.toMatchObject({ code: 'InvalidArgumentException' });
  });

  it('keeps tags: add, overwrite, page, remove, by stream and by ARN, within 50 per stream', async () => {
    await createActive('tagged', { ShardCount: 1, Tags: { team: 'core' } });
    await call(addTagsToStream, { StreamName: 'tagged', Tags: { env: 'test', team: 'edge' } });
    expect(await call(listTagsForStream, { StreamName: 'tagged' })).toEqual({
      Tags: [
        { Key: 'env', Value: 'test' },
        { Key: 'team', Value: 'edge' },
      ],
      HasMoreTags: false,
    });
    const firstPage = await call(listTagsForStream, { StreamName: 'tagged', Limit: 1 });
    expect(firstPage).toEqual({ Tags: [{ Key: 'env', Value: 'test' }], HasMoreTags: true });
    expect((await call(listTagsForStream, { StreamName: 'tagged', ExclusiveStartTagKey: 'env' })).Tags).toEqual([{ Key: 'team', Value: 'edge' }]);

    await call(removeTagsFromStream, { StreamName: 'tagged', TagKeys: ['env', 'never-set'] });
    const arn = store.streamArn('tagged');
    await call(tagResource, { ResourceARN: arn, Tags: { 'cost:centre': 'a/b=c+d-e@f g' } });
    expect((await call(listTagsForResource, { ResourceARN: arn })).Tags).toEqual([
      { Key: 'cost:centre', Value: 'a/b=c+d-e@f g' },
      { Key: 'team', Value: 'edge' },
    ]);
    await call(untagResource, { ResourceARN: arn, TagKeys: ['cost:centre'] });
    expect((await call(listTagsForStream, { StreamName: 'tagged' })).Tags).toEqual([{ Key: 'team', Value: 'edge' }]);

    await expect(call(addTagsToStream, { StreamName: 'tagged', Tags: { 'bad#key': 'x' } })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    await expect(call(addTagsToStream, { StreamName: 'tagged', Tags: { ok: 'bad;value' } })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    await expect(call(addTagsToStream, { StreamName: 'tagged', Tags: { 'aws:owner': 'x' } })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    await expect(call(createStream, { StreamName: 'bad-tags', ShardCount: 1, Tags: { 'a|b': 'x' } })).rejects.toMatchObject({ code: 'InvalidArgumentException' });

    const fill = Object.fromEntries([...Array(49).keys()].map((i) => [`k${i}`, `v${i}`]));
    await call(addTagsToStream, { StreamName: 'tagged', Tags: fill });
    expect((await call(listTagsForStream, { StreamName: 'tagged', Limit: 50 })).Tags).toHaveLength(50);
    await call(addTagsToStream, { StreamName: 'tagged', Tags: { team: 'overwriting keeps the count' } });
    await expect(call(addTagsToStream, { StreamName: 'tagged', Tags: { one: 'too many' } })).rejects.toMatchObject({ code: 'InvalidArgumentException' });

    await expect(call(listTagsForResource, { ResourceARN: `${arn}/consumer/reader:1700000000` })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(call(listTagsForResource, { ResourceARN: arn.replace('us-east-1', 'eu-west-1') })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    expect(tagResource.resource({ ResourceARN: arn, Tags: {} }, { store, requestId: 'r' })).toBe(arn);
  });

  it('moves the retention period only within 24–8760 hours and in the direction the operation names', async () => {
    await createActive('kept');
    const retention = async () => (await summary('kept')).RetentionPeriodHours;
    await call(increaseStreamRetentionPeriod, { StreamName: 'kept', RetentionPeriodHours: 48 });
    expect(await retention()).toBe(48);
    for (const [operation, hours] of [
      [increaseStreamRetentionPeriod, 30],
      [decreaseStreamRetentionPeriod, 100],
      [decreaseStreamRetentionPeriod, DEFAULT_RETENTION_HOURS - 1],
      [increaseStreamRetentionPeriod, MAX_RETENTION_HOURS + 1],
    ] as const) {
      await expect(call(operation, { StreamName: 'kept', RetentionPeriodHours: hours })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    }
    expect(await retention()).toBe(48);
    await call(increaseStreamRetentionPeriod, { StreamName: 'kept', RetentionPeriodHours: MAX_RETENTION_HOURS });
    expect(await retention()).toBe(MAX_RETENTION_HOURS);
    await call(decreaseStreamRetentionPeriod, { StreamName: 'kept', RetentionPeriodHours: DEFAULT_RETENTION_HOURS });
    expect(await retention()).toBe(DEFAULT_RETENTION_HOURS);
  });

  it('keeps and reports stream encryption, and marks records written under it', async () => {
    await createActive('secret');
    const keyId = 'alias/aws/kinesis';
    await expect(call(startStreamEncryption, { StreamName: 'secret', EncryptionType: 'NONE', KeyId: keyId })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    await call(startStreamEncryption, { StreamName: 'secret', EncryptionType: 'KMS', KeyId: keyId });
    await untilActive('secret');
    expect(await summary('secret')).toMatchObject({ EncryptionType: 'KMS', KeyId: keyId });
    expect((await call(describeStream, { StreamName: 'secret' })).StreamDescription).toMatchObject({ EncryptionType: 'KMS', KeyId: keyId });
    expect(await call(putRecord, { StreamName: 'secret', Data: Buffer.from('x'), PartitionKey: 'p' })).toMatchObject({ EncryptionType: 'KMS' });

    await call(stopStreamEncryption, { StreamName: 'secret', EncryptionType: 'KMS', KeyId: keyId });
    await untilActive('secret');
    const after = await summary('secret');
    expect(after.EncryptionType).toBe('NONE');
    expect(after).not.toHaveProperty('KeyId');
    expect(await call(putRecord, { StreamName: 'secret', Data: Buffer.from('x'), PartitionKey: 'p' })).not.toHaveProperty('EncryptionType');
  });

  it('enables and disables shard-level metrics, ALL included, answering current and desired sets', async () => {
    await createActive('watched');
    expect(await call(enableEnhancedMonitoring, { StreamName: 'watched', ShardLevelMetrics: ['IncomingBytes'] })).toEqual({
      StreamName: 'watched',
      StreamARN: store.streamArn('watched'),
      CurrentShardLevelMetrics: [],
      DesiredShardLevelMetrics: ['IncomingBytes'],
    });
    const all = await call(enableEnhancedMonitoring, { StreamName: 'watched', ShardLevelMetrics: ['ALL'] });
    expect(all.CurrentShardLevelMetrics).toEqual(['IncomingBytes']);
    expect([...all.DesiredShardLevelMetrics].sort()).toEqual([...ALL_SHARD_LEVEL_METRICS].sort());
    const fewer = await call(disableEnhancedMonitoring, { StreamName: 'watched', ShardLevelMetrics: ['IncomingBytes', 'OutgoingBytes'] });
    const expected = ALL_SHARD_LEVEL_METRICS.filter((metric) => metric !== 'IncomingBytes' && metric !== 'OutgoingBytes');
    expect([...fewer.DesiredShardLevelMetrics].sort()).toEqual([...expected].sort());
    expect([...(await summary('watched')).EnhancedMonitoring[0].ShardLevelMetrics].sort()).toEqual([...expected].sort());
    expect((await call(disableEnhancedMonitoring, { StreamName: 'watched', ShardLevelMetrics: ['ALL'] })).DesiredShardLevelMetrics).toEqual([]);
  });

  it('stores resource policies by stream ARN and answers {} when there is none', async () => {
    await createActive('shared');
    const arn = store.streamArn('shared');
    expect(await call(getResourcePolicy, { ResourceARN: arn })).toEqual({ Policy: '{}' });
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kinesis:GetRecords', Resource: arn }] });
    await call(putResourcePolicy, { ResourceARN: arn, Policy: policy });
    expect(await call(getResourcePolicy, { ResourceARN: arn })).toEqual({ Policy: policy });
    for (const bad of ['{"Version": ', '[]', '"text"']) {
      await expect(call(putResourcePolicy, { ResourceARN: arn, Policy: bad })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
    }
    await call(deleteResourcePolicy, { ResourceARN: arn });
    expect(await call(getResourcePolicy, { ResourceARN: arn })).toEqual({ Policy: '{}' });
    await expect(call(putResourcePolicy, { ResourceARN: store.streamArn('absent'), Policy: policy })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('UpdateMaxRecordSize changes the size a stream accepts', async () => {
    await createActive('big', { ShardCount: 1, MaxRecordSizeInKiB: 2048 });
    expect((await summary('big')).MaxRecordSizeInKiB).toBe(2048);
    await call(updateMaxRecordSize, { StreamARN: store.streamArn('big'), MaxRecordSizeInKiB: 4096 });
    expect((await summary('big')).MaxRecordSizeInKiB).toBe(4096);
    expect(store.maxRecordBytes({ streamName: 'big' })).toBe(4096 * 1024);
  });

  it('tracks the minimum throughput billing commitment over its 24-hour minimum', async () => {
    expect(await call(describeAccountSettings, {})).toEqual({ MinimumThroughputBillingCommitment: { Status: 'DISABLED' } });
    const started = clock.now();
    const enabled = await call(updateAccountSettings, { MinimumThroughputBillingCommitment: { Status: 'ENABLED' } });
    expect(enabled.MinimumThroughputBillingCommitment).toEqual({
      Status: 'ENABLED',
      StartedAt: new Date(started),
      EarliestAllowedEndAt: new Date(started + MINIMUM_COMMITMENT_MS),
    });
    clock.advance(HOUR_MS);
    const pending = await call(updateAccountSettings, { MinimumThroughputBillingCommitment: { Status: 'DISABLED' } });
    expect(pending.MinimumThroughputBillingCommitment.Status).toBe('ENABLED_UNTIL_EARLIEST_ALLOWED_END');
    clock.set(started + MINIMUM_COMMITMENT_MS + 1);
    expect((await call(describeAccountSettings, {})).MinimumThroughputBillingCommitment).toMatchObject({
      Status: 'DISABLED',
      EndedAt: new Date(started + MINIMUM_COMMITMENT_MS),
    });
  });

  it('takes warm throughput only for ON_DEMAND streams of an account with a billing commitment', async () => {
    await expect(call(createStream, { StreamName: 'warm', StreamModeDetails: { StreamMode: 'ON_DEMAND' }, WarmThroughputMiBps: 100 })).rejects.toMatchObject({
      code: 'InvalidArgumentException',
    });
    await call(updateAccountSettings, { MinimumThroughputBillingCommitment: { Status: 'ENABLED' } });
    await createActive('warm', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, WarmThroughputMiBps: 100 });
    expect((await summary('warm')).WarmThroughput).toEqual({ TargetMiBps: 100, CurrentMiBps: 100 });
    expect(await call(updateStreamWarmThroughput, { StreamName: 'warm', WarmThroughputMiBps: 250 })).toEqual({
      StreamName: 'warm',
      StreamARN: store.streamArn('warm'),
      WarmThroughput: { TargetMiBps: 250, CurrentMiBps: 100 },
    });
    await untilActive('warm');
    expect((await summary('warm')).WarmThroughput).toEqual({ TargetMiBps: 250, CurrentMiBps: 250 });
    await expect(call(updateStreamWarmThroughput, { StreamName: 'warm', WarmThroughputMiBps: 10 * 1024 + 1 })).rejects.toMatchObject({ code: 'LimitExceededException' });
    await createActive('cold', { ShardCount: 1 });
    await expect(call(updateStreamWarmThroughput, { StreamName: 'cold', WarmThroughputMiBps: 10 })).rejects.toMatchObject({ code: 'InvalidArgumentException' });
  });

  it('registers every operation under its own name', () => {
    for (const [name, operation] of kinesisOperations) expect(operation.name).toBe(name);
    const controlPlane = [
      'AddTagsToStream', 'CreateStream', 'DecreaseStreamRetentionPeriod', 'DeleteResourcePolicy', 'DeleteStream', 'DescribeAccountSettings',
      'DescribeLimits', 'DescribeStream', 'DescribeStreamSummary', 'DisableEnhancedMonitoring', 'EnableEnhancedMonitoring', 'GetResourcePolicy',
      'IncreaseStreamRetentionPeriod', 'ListShards', 'ListStreams', 'ListTagsForResource', 'ListTagsForStream', 'MergeShards', 'PutResourcePolicy',
      'RemoveTagsFromStream', 'SplitShard', 'StartStreamEncryption', 'StopStreamEncryption', 'TagResource', 'UntagResource', 'UpdateAccountSettings',
      'UpdateMaxRecordSize', 'UpdateShardCount', 'UpdateStreamMode', 'UpdateStreamWarmThroughput',
    ];
    for (const name of [...controlPlane, 'PutRecord', 'PutRecords', 'GetShardIterator', 'GetRecords']) expect(kinesisOperations.has(name)).toBe(true);
    expect(createStream.resource({ StreamName: 'x' }, { store, requestId: 'r' })).toBe(store.streamArn('x'));
    expect(kinesisOperations.get('ListStreams')!.resource({}, { store, requestId: 'r' })).toBeUndefined();
  });
});

describe('Kinesis control-plane operations on streams that are not ACTIVE', () => {
  // Transitions here take far longer than the test, so CREATING and UPDATING hold still.
  const slowly = () => StreamStore.open(storeOptions({ statusDelayMs: 3_600_000 }));

  beforeEach(async () => {
    dir = await makeTempDir();
    clock = new ManualClock();
    store = await slowly();
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('shows a CREATING stream without shards and refuses changes to it', async () => {
    await call(createStream, { StreamName: 'young', ShardCount: 2 });
    expect((await call(describeStream, { StreamName: 'young' })).StreamDescription).toMatchObject({ StreamStatus: 'CREATING', Shards: [], HasMoreShards: false });
    await expect(call(listShards, { StreamName: 'young' })).rejects.toMatchObject({ code: 'ResourceInUseException' });
    await expect(call(addTagsToStream, { StreamName: 'young', Tags: { a: 'b' } })).rejects.toMatchObject({ code: 'ResourceInUseException' });
    await expect(call(increaseStreamRetentionPeriod, { StreamName: 'young', RetentionPeriodHours: 48 })).rejects.toMatchObject({ code: 'ResourceInUseException' });
    await expect(call(deleteStream, { StreamName: 'young' })).rejects.toMatchObject({ code: 'ResourceInUseException' });
  });

  it('refuses changes while an UPDATING stream applies one', async () => {
    await call(createStream, { StreamName: 'busy', ShardCount: 2 });
    // A restart completes the interrupted creation.
    await store.close();
    store = await slowly();
    expect((await summary('busy')).StreamStatus).toBe('ACTIVE');
    await call(startStreamEncryption, { StreamName: 'busy', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    expect((await summary('busy')).StreamStatus).toBe('UPDATING');
    const [first] = await allShards('busy');
    await expect(call(stopStreamEncryption, { StreamName: 'busy', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' })).rejects.toMatchObject({ code: 'ResourceInUseException' });
    await expect(call(splitShard, { StreamName: 'busy', ShardToSplit: first!.ShardId, NewStartingHashKey: '1000' })).rejects.toMatchObject({ code: 'ResourceInUseException' });
    await expect(call(enableEnhancedMonitoring, { StreamName: 'busy', ShardLevelMetrics: ['ALL'] })).rejects.toMatchObject({ code: 'ResourceInUseException' });
    await expect(call(putResourcePolicy, { ResourceARN: store.streamArn('busy'), Policy: '{}' })).rejects.toMatchObject({ code: 'ResourceInUseException' });
  });
});
