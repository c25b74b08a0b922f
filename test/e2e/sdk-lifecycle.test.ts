/**
 * The whole life of a stream through the AWS SDK v3 against the real collector process, once
 * over the SDK's default HTTP/2 handler and once over HTTP/1.1 (NodeHttpHandler). Routing is
 * checked against MD5 computed here, and reads against what was put, byte for byte.
 *
 * The steps of one transport share the stream they build up, so they run in order.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  ListStreamsCommand,
  ListTagsForResourceCommand,
  ListTagsForStreamCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RemoveTagsFromStreamCommand,
  SplitShardCommand,
  TagResourceCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type Shard,
  type ShardIteratorType,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import {
  createActiveStream,
  kinesisClient,
  listAllShards,
  readFromIterator,
  readShard,
  rejectionOf,
  waitForStreamGone,
  waitForStreamStatus,
  type Transport,
} from '../helpers/kinesis-client.js';
import { hashRangeOf, isOpen, md5HashKey, openShardFor, tilingProblems } from '../helpers/shard-ranges.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface PutRecordSent {
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
}

/** What GetRecords must return for a record, in a form `toEqual` compares readably. */
function wireView(record: { sequenceNumber: string; partitionKey: string; data: Buffer }): { sequenceNumber: string; partitionKey: string; data: string } {
  return { sequenceNumber: record.sequenceNumber, partitionKey: record.partitionKey, data: record.data.toString('hex') };
}

function receivedView(record: _Record): { sequenceNumber: string; partitionKey: string; data: string } {
  return { sequenceNumber: record.SequenceNumber!, partitionKey: record.PartitionKey!, data: Buffer.from(record.Data!).toString('hex') };
}

/** Binary payloads of varied sizes, so a text-only or fixed-size path cannot pass. */
function randomPayload(): Buffer {
  return randomBytes(1 + randomInt(300));
}

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-lifecycle-');
  // Read limits (5 GetRecords/s per shard) would only slow this walk through the API down.
  collector = await startCollector(dataDir.path, ['--shard-limits', 'off']);
});

afterAll(async () => {
  await collector?.stop();
  await dataDir?.remove();
});

describe.each<Transport>(['http2', 'http1'])('stream life cycle through the SDK over %s', (transport) => {
  const streamName = `lifecycle-${transport}`;
  const testStartedMs = Date.now();
  let client: KinesisClient;
  let shards: Shard[] = [];
  /** Every acknowledged record, per shard, in the order the acknowledgements came. */
  const sentByShard = new Map<string, PutRecordSent[]>();

  function remember(shardId: string, record: PutRecordSent): void {
    const list = sentByShard.get(shardId) ?? [];
    list.push(record);
    sentByShard.set(shardId, list);
  }

  async function putRouted(partitionKeys: string[]): Promise<void> {
    const entries = partitionKeys.map((key) => ({ PartitionKey: key, Data: randomPayload() }));
    const result = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    expect(result.FailedRecordCount).toBe(0);
    expect(result.Records).toHaveLength(entries.length);
    result.Records!.forEach((entry, i) => {
      const sent = entries[i]!;
      expect(entry.ShardId, `shard of partition key ${sent.PartitionKey}`).toBe(openShardFor(shards, md5HashKey(sent.PartitionKey)).ShardId);
      remember(entry.ShardId!, { sequenceNumber: entry.SequenceNumber!, partitionKey: sent.PartitionKey, data: Buffer.from(sent.Data) });
    });
  }

  async function iterator(shardId: string, type: ShardIteratorType, extra: { StartingSequenceNumber?: string; Timestamp?: Date } = {}): Promise<string> {
    const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: type, ...extra }));
    expect(ShardIterator).toBeTypeOf('string');
    return ShardIterator!;
  }

  beforeAll(() => {
    client = kinesisClient(collector.endpoint, { transport });
  });

  afterAll(() => {
    client?.destroy();
  });

  it('creates a 2-shard stream that becomes ACTIVE with shards tiling the hash key space', async () => {
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
    const summary = await waitForStreamStatus(client, streamName);
    expect(summary).toMatchObject({
      StreamName: streamName,
      StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      OpenShardCount: 2,
      RetentionPeriodHours: 24,
    });
    shards = await listAllShards(client, streamName);
    expect(shards).toHaveLength(2);
    expect(tilingProblems(shards)).toEqual([]);
  });

  it('answers AWS error codes through the SDK', async () => {
    const missing = await rejectionOf(client.send(new DescribeStreamSummaryCommand({ StreamName: `${streamName}-missing` })));
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.$metadata?.httpStatusCode).toBe(400);

    const badName = await rejectionOf(client.send(new CreateStreamCommand({ StreamName: 'bad name!', ShardCount: 1 })));
    expect(badName.name).toBe('ValidationException');

    const existing = await rejectionOf(client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 })));
    expect(existing.name).toBe('ResourceInUseException');

    // Well-formed by the model's pattern, but no sequence number this shard ever issued.
    const badSequence = await rejectionOf(
      client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shards[0]!.ShardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '12345' })),
    );
    expect(badSequence.name).toBe('InvalidArgumentException');
    // ExpiredIteratorException needs an iterator older than 5 minutes; the store's unit tests cover it with a fake clock.
  });

  it('routes PutRecord and PutRecords to the shard holding MD5(partition key)', async () => {
    for (let i = 0; i < 6; i++) {
      const partitionKey = `single-${transport}-${i}`;
      const data = randomPayload();
      const result = await client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: partitionKey, Data: data }));
      expect(result.ShardId).toBe(openShardFor(shards, md5HashKey(partitionKey)).ShardId);
      expect(result.SequenceNumber).toMatch(/^\d+$/);
      remember(result.ShardId!, { sequenceNumber: result.SequenceNumber!, partitionKey, data });
    }
    await putRouted(Array.from({ length: 40 }, (_, i) => `batch-${transport}-${i}`));
    // 46 random keys leave a shard empty with probability 2^-45: both must have data for the reads below to mean anything.
    for (const shard of shards) expect(sentByShard.get(shard.ShardId!)?.length ?? 0).toBeGreaterThan(0);
  });

  it('routes by ExplicitHashKey rather than the partition key', async () => {
    const [low, high] = [...shards].sort((a, b) => (hashRangeOf(a).start < hashRangeOf(b).start ? -1 : 1)) as [Shard, Shard];
    // A partition key whose MD5 lands in the low shard, sent with hash keys that name the high one and the low one's last key.
    let candidate = 0;
    while (openShardFor(shards, md5HashKey(`explicit-${candidate}`)) !== low) candidate++;
    const partitionKey = `explicit-${candidate}`;
    const boundaries = [
      { explicitHashKey: hashRangeOf(high).start, shard: high },
      { explicitHashKey: hashRangeOf(low).end, shard: low },
      { explicitHashKey: hashRangeOf(high).end, shard: high },
    ];
    for (const { explicitHashKey, shard } of boundaries) {
      const data = randomPayload();
      const result = await client.send(
        new PutRecordCommand({ StreamName: streamName, PartitionKey: partitionKey, ExplicitHashKey: explicitHashKey.toString(), Data: data }),
      );
      expect(result.ShardId, `ExplicitHashKey ${explicitHashKey}`).toBe(shard.ShardId);
      remember(result.ShardId!, { sequenceNumber: result.SequenceNumber!, partitionKey, data });
    }
    const entries = boundaries.map(({ explicitHashKey }) => ({ PartitionKey: partitionKey, ExplicitHashKey: explicitHashKey.toString(), Data: randomPayload() }));
    const batch = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    expect(batch.Records!.map((r) => r.ShardId)).toEqual(boundaries.map((b) => b.shard.ShardId));
    batch.Records!.forEach((r, i) => remember(r.ShardId!, { sequenceNumber: r.SequenceNumber!, partitionKey, data: Buffer.from(entries[i]!.Data) }));
  });

  it('addresses the stream by StreamARN as well as by name', async () => {
    const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`;
    expect((await client.send(new DescribeStreamSummaryCommand({ StreamARN: arn }))).StreamDescriptionSummary?.StreamName).toBe(streamName);
    const data = randomPayload();
    const put = await client.send(new PutRecordCommand({ StreamARN: arn, PartitionKey: 'by-arn', Data: data }));
    expect(put.ShardId).toBe(openShardFor(shards, md5HashKey('by-arn')).ShardId);
    remember(put.ShardId!, { sequenceNumber: put.SequenceNumber!, partitionKey: 'by-arn', data });
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({ StreamARN: arn, ShardId: put.ShardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: put.SequenceNumber }),
    );
    const page = await client.send(new GetRecordsCommand({ ShardIterator, StreamARN: arn, Limit: 1 }));
    expect(page.Records?.map(receivedView)).toEqual([wireView({ sequenceNumber: put.SequenceNumber!, partitionKey: 'by-arn', data })]);
  });

  it('serves many concurrent calls (over HTTP/2: multiplexed on one session)', async () => {
    const puts = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `concurrent-${transport}-${i}`, data: randomPayload() }));
    const results = await Promise.all(puts.map(({ partitionKey, data }) => client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: partitionKey, Data: data }))));
    results.forEach((result, i) => {
      expect(result.ShardId).toBe(openShardFor(shards, md5HashKey(puts[i]!.partitionKey)).ShardId);
      remember(result.ShardId!, { sequenceNumber: result.SequenceNumber!, ...puts[i]! });
    });
    expect(new Set(results.map((r) => r.SequenceNumber)).size).toBe(puts.length);
    // Acknowledgements of concurrent calls arrive in any order; a shard holds its records by sequence number.
    for (const list of sentByShard.values()) list.sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1));
  });

  it('TRIM_HORIZON reads back exactly the records put, in order, byte for byte', async () => {
    for (const shard of shards) {
      const read = await readShard(client, streamName, shard.ShardId!);
      const sent = sentByShard.get(shard.ShardId!)!;
      expect(read.records.map(receivedView)).toEqual(sent.map(wireView));
      const sequenceNumbers = read.records.map((r) => BigInt(r.SequenceNumber!));
      for (let i = 1; i < sequenceNumbers.length; i++) expect(sequenceNumbers[i]! > sequenceNumbers[i - 1]!).toBe(true);
      for (const record of read.records) {
        expect(record.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
        expect(record.ApproximateArrivalTimestamp!.getTime()).toBeGreaterThanOrEqual(testStartedMs - 1000);
        expect(record.ApproximateArrivalTimestamp!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      }
      // An open shard always hands out a NextShardIterator; at the tip it is 0 ms behind.
      expect(read.nextIterator).toBeTypeOf('string');
      expect(read.lastMillisBehindLatest).toBe(0);
    }
  });

  it('pages with Limit, continuing from NextShardIterator', async () => {
    const shardId = shards[0]!.ShardId!;
    const sent = sentByShard.get(shardId)!.map(wireView);
    const first = await client.send(new GetRecordsCommand({ ShardIterator: await iterator(shardId, 'TRIM_HORIZON'), Limit: 1 }));
    expect(first.Records!.map(receivedView)).toEqual(sent.slice(0, 1));
    expect(first.MillisBehindLatest).toBeTypeOf('number');
    expect(first.MillisBehindLatest).toBeGreaterThanOrEqual(0);
    const rest = await readFromIterator(client, first.NextShardIterator!);
    expect(rest.records.map(receivedView)).toEqual(sent.slice(1));
  });

  it('LATEST starts after the newest record: it sees only what is put afterwards', async () => {
    const shard = shards[0]!;
    const latest = await iterator(shard.ShardId!, 'LATEST');
    const before = await client.send(new GetRecordsCommand({ ShardIterator: await iterator(shard.ShardId!, 'LATEST') }));
    expect(before.Records).toEqual([]);
    expect(before.NextShardIterator).toBeTypeOf('string');

    const data = randomPayload();
    const put = await client.send(
      new PutRecordCommand({ StreamName: streamName, PartitionKey: 'after-latest', ExplicitHashKey: hashRangeOf(shard).start.toString(), Data: data }),
    );
    expect(put.ShardId).toBe(shard.ShardId);
    remember(put.ShardId!, { sequenceNumber: put.SequenceNumber!, partitionKey: 'after-latest', data });

    const afterPut = await readFromIterator(client, latest);
    expect(afterPut.records.map(receivedView)).toEqual([wireView({ sequenceNumber: put.SequenceNumber!, partitionKey: 'after-latest', data })]);
    const continued = await readFromIterator(client, before.NextShardIterator!);
    expect(continued.records.map((r) => r.SequenceNumber)).toEqual([put.SequenceNumber]);
  });

  it('AT_SEQUENCE_NUMBER starts at the record, AFTER_SEQUENCE_NUMBER just after it', async () => {
    const [shardId, sent] = [...sentByShard].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(sent.length).toBeGreaterThanOrEqual(3);
    const middle = Math.floor(sent.length / 2);
    const at = await readFromIterator(client, await iterator(shardId, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: sent[middle]!.sequenceNumber }));
    expect(at.records.map(receivedView)).toEqual(sent.slice(middle).map(wireView));
    const after = await readFromIterator(client, await iterator(shardId, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: sent[middle]!.sequenceNumber }));
    expect(after.records.map(receivedView)).toEqual(sent.slice(middle + 1).map(wireView));
  });

  it('AT_TIMESTAMP starts at the first record that arrived at or after the timestamp', async () => {
    const shardId = shards[1]!.ShardId!;
    const all = (await readShard(client, streamName, shardId)).records;
    const pivot = all[Math.floor(all.length / 2)]!.ApproximateArrivalTimestamp!;
    const expected = all.filter((r) => r.ApproximateArrivalTimestamp!.getTime() >= pivot.getTime()).map(receivedView);
    const fromPivot = await readFromIterator(client, await iterator(shardId, 'AT_TIMESTAMP', { Timestamp: pivot }));
    expect(fromPivot.records.map(receivedView)).toEqual(expected);
    const fromBeforeAll = await readFromIterator(client, await iterator(shardId, 'AT_TIMESTAMP', { Timestamp: new Date(testStartedMs - 60_000) }));
    expect(fromBeforeAll.records.map(receivedView)).toEqual(all.map(receivedView));
  });

  it('SplitShard closes the parent and hands its range to two children', async () => {
    const parent = shards[0]!;
    const range = hashRangeOf(parent);
    const splitAt = range.start + (range.end - range.start) / 2n + 1n;
    await client.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: parent.ShardId, NewStartingHashKey: splitAt.toString() }));
    const summary = await waitForStreamStatus(client, streamName);
    expect(summary.OpenShardCount).toBe(3);

    shards = await listAllShards(client, streamName);
    expect(tilingProblems(shards)).toEqual([]);
    const closedParent = shards.find((s) => s.ShardId === parent.ShardId)!;
    const parentRecords = sentByShard.get(parent.ShardId!)!;
    const ending = closedParent.SequenceNumberRange?.EndingSequenceNumber;
    expect(ending, 'a split parent has an EndingSequenceNumber').toBeTypeOf('string');
    expect(BigInt(ending!)).toBeGreaterThanOrEqual(BigInt(parentRecords.at(-1)!.sequenceNumber));

    const children = shards.filter((s) => s.ParentShardId === parent.ShardId);
    expect(children.map((c) => ({ ...hashRangeOf(c), adjacent: c.AdjacentParentShardId, open: isOpen(c) })).sort((a, b) => (a.start < b.start ? -1 : 1))).toEqual([
      { start: range.start, end: splitAt - 1n, adjacent: undefined, open: true },
      { start: splitAt, end: range.end, adjacent: undefined, open: true },
    ]);

    // Read to its end, the parent returns its records, then ChildShards and no NextShardIterator.
    const read = await readShard(client, streamName, parent.ShardId!);
    expect(read.records.map(receivedView)).toEqual(parentRecords.map(wireView));
    expect(read.nextIterator).toBeUndefined();
    expect(read.childShards?.map((c) => c.ShardId).sort()).toEqual(children.map((c) => c.ShardId).sort());
    for (const child of read.childShards ?? []) {
      const listed = children.find((c) => c.ShardId === child.ShardId)!;
      expect(child.ParentShards).toEqual([parent.ShardId]);
      expect(child.HashKeyRange).toEqual(listed.HashKeyRange);
    }

    await putRouted(Array.from({ length: 30 }, (_, i) => `after-split-${transport}-${i}`));
    expect(sentByShard.get(parent.ShardId!)).toHaveLength(parentRecords.length);
  });

  it('MergeShards joins the two children into one shard with a parent and an adjacent parent', async () => {
    const children = shards.filter((s) => isOpen(s) && s.ParentShardId !== undefined).sort((a, b) => (hashRangeOf(a).start < hashRangeOf(b).start ? -1 : 1));
    expect(children).toHaveLength(2);
    const [lower, upper] = children as [Shard, Shard];
    await client.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: lower.ShardId, AdjacentShardToMerge: upper.ShardId }));
    expect((await waitForStreamStatus(client, streamName)).OpenShardCount).toBe(2);

    shards = await listAllShards(client, streamName);
    expect(tilingProblems(shards)).toEqual([]);
    const merged = shards.filter((s) => s.ParentShardId === lower.ShardId);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.AdjacentParentShardId).toBe(upper.ShardId);
    expect(hashRangeOf(merged[0]!)).toEqual({ start: hashRangeOf(lower).start, end: hashRangeOf(upper).end });
    for (const child of [lower, upper]) {
      expect(isOpen(shards.find((s) => s.ShardId === child.ShardId)!)).toBe(false);
      const read = await readShard(client, streamName, child.ShardId!);
      expect(read.records.map(receivedView)).toEqual((sentByShard.get(child.ShardId!) ?? []).map(wireView));
      expect(read.nextIterator).toBeUndefined();
      expect(read.childShards?.map((c) => ({ id: c.ShardId, parents: [...(c.ParentShards ?? [])].sort() }))).toEqual([
        { id: merged[0]!.ShardId, parents: [lower.ShardId, upper.ShardId].sort() },
      ]);
    }
  });

  it('UpdateShardCount scales 2 → 3 → 6 → 3 and the open shards always tile the hash key space', async () => {
    let current = 2;
    for (const target of [3, 6, 3]) {
      const result = await client.send(new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
      expect(result).toMatchObject({ StreamName: streamName, CurrentShardCount: current, TargetShardCount: target });
      expect((await waitForStreamStatus(client, streamName)).OpenShardCount).toBe(target);
      shards = await listAllShards(client, streamName);
      expect(shards.filter(isOpen), `open shards after scaling to ${target}`).toHaveLength(target);
      expect(tilingProblems(shards), `tiling after scaling to ${target}`).toEqual([]);
      for (const shard of shards.filter(isOpen)) expect(shard.ParentShardId, `${shard.ShardId} has a parent`).toBeTypeOf('string');
      current = target;
    }
    // Paging through ListShards finds the same shards as one page does.
    expect(await listAllShards(client, streamName, 2)).toEqual(shards);

    await putRouted(Array.from({ length: 30 }, (_, i) => `after-scaling-${transport}-${i}`));
    for (const shard of shards.filter(isOpen)) {
      const read = await readShard(client, streamName, shard.ShardId!);
      expect(read.records.map(receivedView)).toEqual((sentByShard.get(shard.ShardId!) ?? []).map(wireView));
    }
  });

  it('raises and lowers the retention period within 24..8760 hours', async () => {
    await client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: 48 }));
    expect((await waitForStreamStatus(client, streamName)).RetentionPeriodHours).toBe(48);
    await client.send(new DecreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: 24 }));
    expect((await waitForStreamStatus(client, streamName)).RetentionPeriodHours).toBe(24);

    expect((await rejectionOf(client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: 12 })))).name).toBe(
      'InvalidArgumentException',
    );
    expect((await rejectionOf(client.send(new DecreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: 48 })))).name).toBe(
      'InvalidArgumentException',
    );
  });

  it('adds, lists and removes tags by stream name and by ARN', async () => {
    const sortedTags = (tags: Array<{ Key?: string; Value?: string }> | undefined) => [...(tags ?? [])].sort((a, b) => (a.Key! < b.Key! ? -1 : 1));
    await client.send(new AddTagsToStreamCommand({ StreamName: streamName, Tags: { team: 'edge', env: 'test' } }));
    expect(sortedTags((await client.send(new ListTagsForStreamCommand({ StreamName: streamName }))).Tags)).toEqual([
      { Key: 'env', Value: 'test' },
      { Key: 'team', Value: 'edge' },
    ]);
    await client.send(new RemoveTagsFromStreamCommand({ StreamName: streamName, TagKeys: ['env'] }));
    const afterRemove = await client.send(new ListTagsForStreamCommand({ StreamName: streamName }));
    expect(afterRemove.Tags).toEqual([{ Key: 'team', Value: 'edge' }]);
    expect(afterRemove.HasMoreTags).toBe(false);

    const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`;
    await client.send(new TagResourceCommand({ ResourceARN: arn, Tags: { site: 'lab' } }));
    const expected = [
      { Key: 'site', Value: 'lab' },
      { Key: 'team', Value: 'edge' },
    ];
    expect(sortedTags((await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags)).toEqual(expected);
    expect(sortedTags((await client.send(new ListTagsForStreamCommand({ StreamName: streamName }))).Tags)).toEqual(expected);
  });

  // Found lost updates in StreamStore.updateMeta (collector/store/streams.ts): each call clones the
  // metadata, awaits the level write and then replaces it, so of concurrent calls the last one's
  // clone wins. Reported to the lead; this test fails until that is fixed.
  it('keeps every one of several concurrent tag updates', async () => {
    const keys = ['concurrentA', 'concurrentB', 'concurrentC', 'concurrentD'];
    await Promise.all(keys.map((key) => client.send(new AddTagsToStreamCommand({ StreamName: streamName, Tags: { [key]: 'set' } }))));
    const listed = (await client.send(new ListTagsForStreamCommand({ StreamName: streamName }))).Tags!.map((t) => t.Key);
    expect(listed).toEqual(expect.arrayContaining(keys));
  });

  it('pages through ListStreams', async () => {
    const extra = [0, 1, 2].map((i) => `${streamName}-list-${i}`);
    await Promise.all(extra.map((name) => client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }))));
    for (const name of extra) await waitForStreamStatus(client, name);

    const unpaged = await client.send(new ListStreamsCommand({}));
    expect(unpaged.HasMoreStreams).toBe(false);
    expect(unpaged.StreamNames).toEqual(expect.arrayContaining([streamName, ...extra]));
    expect(unpaged.StreamSummaries?.map((s) => s.StreamName)).toEqual(unpaged.StreamNames);

    const paged: string[] = [];
    let page = await client.send(new ListStreamsCommand({ Limit: 2 }));
    for (let pages = 1; ; pages++) {
      expect(page.StreamNames!.length).toBeLessThanOrEqual(2);
      paged.push(...page.StreamNames!);
      if (!page.HasMoreStreams) break;
      expect(pages, 'ListStreams kept reporting HasMoreStreams').toBeLessThan(50);
      expect(page.NextToken).toBeTypeOf('string');
      page = await client.send(new ListStreamsCommand({ Limit: 2, NextToken: page.NextToken }));
    }
    expect(paged).toEqual(unpaged.StreamNames);

    const afterOurs = await client.send(new ListStreamsCommand({ ExclusiveStartStreamName: streamName }));
    expect(afterOurs.StreamNames).toEqual(unpaged.StreamNames!.filter((name) => name > streamName));

    for (const name of extra) await client.send(new DeleteStreamCommand({ StreamName: name }));
    for (const name of extra) await waitForStreamGone(client, name);
  });

  it('DeleteStream removes the stream; afterwards every call answers ResourceNotFoundException', async () => {
    await client.send(new DeleteStreamCommand({ StreamName: streamName }));
    await waitForStreamGone(client, streamName);
    const put = await rejectionOf(client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: 'gone', Data: Buffer.from('x') })));
    expect(put.name).toBe('ResourceNotFoundException');
    const listed = await client.send(new ListStreamsCommand({}));
    expect(listed.StreamNames).not.toContain(streamName);
    const read = await rejectionOf(client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shards[0]!.ShardId, ShardIteratorType: 'TRIM_HORIZON' })));
    expect(read.name).toBe('ResourceNotFoundException');
  });
});

describe('PutRecords partial failure under shard write limits', () => {
  const streamName = 'throttled';
  let limitedDir: { path: string; remove: () => Promise<void> };
  let limited: CollectorProcess;
  let client: KinesisClient;

  beforeAll(async () => {
    limitedDir = await makeTempDir('riffle-e2e-limits-');
    limited = await startCollector(limitedDir.path, ['--shard-limits', '1']);
    client = kinesisClient(limited.endpoint, { transport: 'http1' });
    await createActiveStream(client, streamName);
  });

  afterAll(async () => {
    client?.destroy();
    await limited?.stop();
    await limitedDir?.remove();
  });

  it('refuses the records over 1,000 records/s per shard entry by entry, with HTTP 200', async () => {
    // Kinesis quota: 1,000 records/s per shard. 2,500 records in five concurrent calls arrive well within 1.5 s.
    const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `k-${b}-${i}`, Data: Buffer.from(`r-${b}-${i}`) })));
    const results = await Promise.all(batches.map((records) => client.send(new PutRecordsCommand({ StreamName: streamName, Records: records }))));

    let failed = 0;
    let stored = 0;
    for (const result of results) {
      expect(result.$metadata.httpStatusCode).toBe(200);
      const failedEntries = result.Records!.filter((r) => r.ErrorCode !== undefined);
      expect(result.FailedRecordCount).toBe(failedEntries.length);
      for (const entry of failedEntries) {
        expect(entry.ErrorCode).toBe('ProvisionedThroughputExceededException');
        expect(entry.ErrorMessage).toBeTypeOf('string');
        expect(entry.SequenceNumber).toBeUndefined();
      }
      for (const entry of result.Records!.filter((r) => r.ErrorCode === undefined)) expect(entry.SequenceNumber).toMatch(/^\d+$/);
      failed += failedEntries.length;
      stored += result.Records!.length - failedEntries.length;
    }
    expect(failed).toBeGreaterThan(0);
    expect(stored).toBeGreaterThanOrEqual(1000);

    // Only the acknowledged entries were stored (one GetRecords returns up to 10,000 records).
    const [shard] = await listAllShards(client, streamName);
    const read = await readShard(client, streamName, shard!.ShardId!);
    expect(read.records).toHaveLength(stored);
  });
});

describe('stream status transitions', () => {
  const streamName = 'transitions';
  // Long enough that the calls right after a change land inside the transition, even on a busy machine.
  const statusDelayMs = 400;
  let slowDir: { path: string; remove: () => Promise<void> };
  let slow: CollectorProcess;
  let client: KinesisClient;

  async function statusNow(): Promise<string | undefined> {
    return (await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary?.StreamStatus;
  }

  beforeAll(async () => {
    slowDir = await makeTempDir('riffle-e2e-transitions-');
    slow = await startCollector(slowDir.path, ['--status-delay-ms', String(statusDelayMs), '--shard-limits', 'off']);
    client = kinesisClient(slow.endpoint, { transport: 'http1' });
  });

  afterAll(async () => {
    client?.destroy();
    await slow?.stop();
    await slowDir?.remove();
  });

  it('is CREATING, refusing records, until it becomes ACTIVE', async () => {
    await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
    expect(await statusNow()).toBe('CREATING');
    const early = await rejectionOf(client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: 'early', Data: Buffer.from('x') })));
    expect(early.name).toBe('ResourceNotFoundException');
    await waitForStreamStatus(client, streamName, 'ACTIVE');
  });

  it('is UPDATING during a reshard: it takes records but refuses a second reshard', async () => {
    const [shard] = await listAllShards(client, streamName);
    await client.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: shard!.ShardId, NewStartingHashKey: (1n << 127n).toString() }));
    expect(await statusNow()).toBe('UPDATING');
    const second = await rejectionOf(client.send(new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' })));
    expect(second.name).toBe('ResourceInUseException');
    const during = await client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: 'during', Data: Buffer.from('during the update') }));
    expect(during.SequenceNumber).toMatch(/^\d+$/);
    expect((await waitForStreamStatus(client, streamName, 'ACTIVE')).OpenShardCount).toBe(2);
  });

  // Found: DescribeStreamSummary answers ResourceNotFoundException for a DELETING stream
  // (StreamStore.stream() in collector/store/streams.ts treats DELETING as missing), while
  // ListStreams lists it as DELETING. AWS's DeleteStream reference: "You can use the
  // DescribeStreamSummary operation to check the state of the stream, which is returned in
  // StreamStatus" — and kinesalite answers DELETING. Reported to the lead; fails until fixed.
  it('is DELETING, visible to ListStreams and DescribeStreamSummary, until it is gone', async () => {
    await client.send(new DeleteStreamCommand({ StreamName: streamName }));
    const listed = await client.send(new ListStreamsCommand({}));
    expect(listed.StreamSummaries?.find((s) => s.StreamName === streamName)?.StreamStatus).toBe('DELETING');
    const described = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName })).catch((error: Error) => error.name);
    expect(typeof described === 'string' ? described : described.StreamDescriptionSummary?.StreamStatus).toBe('DELETING');
    await waitForStreamGone(client, streamName);
  });
});
