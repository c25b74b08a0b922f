/**
 * SubscribeToShard through the AWS SDK v3 — its default HTTP/2 handler, and NodeHttpHandler over
 * HTTP/1.1 — against the real collector process: records pushed as they land, continuation from
 * ContinuationSequenceNumber, a second subscription refused, ChildShards after a split, and an
 * exception event when the stream is deleted under the subscription.
 */
import {
  DeleteStreamCommand,
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  PutRecordCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
  type KinesisClient,
  type StartingPosition,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createActiveStream, kinesisClient, rejectionOf, waitForStreamStatus, type Transport } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const MID_HASH_KEY = (2n ** 127n).toString();

/** Reads a subscription's events one at a time, so a test can act between them. */
class Subscription {
  private readonly iterator: AsyncIterator<SubscribeToShardEventStream>;
  readonly controller = new AbortController();

  private constructor(stream: AsyncIterable<SubscribeToShardEventStream>) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  static async open(client: KinesisClient, consumerArn: string, shardId: string, position: StartingPosition): Promise<Subscription> {
    const controller = new AbortController();
    const output = await client.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: position }), { abortSignal: controller.signal });
    const subscription = new Subscription(output.EventStream!);
    subscription.controller.signal.addEventListener('abort', () => controller.abort());
    return subscription;
  }

  /** The next SubscribeToShardEvent, or undefined when the stream ended. Exception events throw. */
  async next(): Promise<SubscribeToShardEvent | undefined> {
    const { done, value } = await this.iterator.next();
    if (done) return undefined;
    if (!value.SubscribeToShardEvent) throw new Error(`unexpected event ${JSON.stringify(value)}`);
    return value.SubscribeToShardEvent;
  }

  /** Events until `count` records arrived in all. */
  async records(count: number): Promise<{ data: string[]; events: SubscribeToShardEvent[] }> {
    const data: string[] = [];
    const events: SubscribeToShardEvent[] = [];
    while (data.length < count) {
      const event = await this.next();
      if (!event) throw new Error(`stream ended after ${data.length} of ${count} records`);
      events.push(event);
      data.push(...(event.Records ?? []).map((r) => Buffer.from(r.Data!).toString()));
    }
    return { data, events };
  }

  close(): void {
    this.controller.abort();
  }
}

describe.each<Transport>(['http2', 'http1'])('SubscribeToShard with the SDK v3 over %s', (transport) => {
  let dir: { path: string; remove: () => Promise<void> };
  let collector: CollectorProcess;
  let client: KinesisClient;

  beforeAll(async () => {
    dir = await makeTempDir();
    collector = await startCollector(dir.path);
    client = kinesisClient(collector.endpoint, { transport });
  });
  afterAll(async () => {
    client.destroy();
    await collector.stop();
    await dir.remove();
  });

  async function activeConsumer(stream: string, name: string): Promise<string> {
    await createActiveStream(client, stream);
    const { Consumer } = await client.send(
      new RegisterStreamConsumerCommand({ StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`, ConsumerName: name }),
    );
    await pollUntil('consumer ACTIVE', async () => {
      const { ConsumerDescription } = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer!.ConsumerARN! }));
      return ConsumerDescription?.ConsumerStatus === 'ACTIVE';
    });
    return Consumer!.ConsumerARN!;
  }

  const put = (stream: string, data: string) => client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: data, Data: Buffer.from(data) }));

  it('pushes stored and newly put records, continues after the last one, and refuses a second subscription', async () => {
    const consumerArn = await activeConsumer('push', 'live');
    const shardId = 'shardId-000000000000';
    for (const data of ['a', 'b', 'c']) await put('push', data);

    const first = await Subscription.open(client, consumerArn, shardId, { Type: 'TRIM_HORIZON' });
    const stored = await first.records(3);
    expect(stored.data).toEqual(['a', 'b', 'c']);

    // Records put now are pushed on this open subscription, no new call needed.
    const { SequenceNumber: lastPut } = await put('push', 'd');
    const pushed = await first.records(1);
    expect(pushed.data).toEqual(['d']);
    const lastEvent = pushed.events[pushed.events.length - 1]!;
    expect(lastEvent.ContinuationSequenceNumber).toBe(lastPut);
    expect(lastEvent.MillisBehindLatest).toBe(0);

    expect((await rejectionOf(Subscription.open(client, consumerArn, shardId, { Type: 'LATEST' }))).name).toBe('ResourceInUseException');

    // The client stops; a new subscription resumes after the continuation. (Over HTTP/1.1 the abort
    // closes the connection and frees the subscription at once; the SDK's HTTP/2 handler keeps the
    // stream open after an abort, so there the new call takes over once the 5-second window passed.)
    first.close();
    await put('push', 'e');
    const resumed = await pollUntil('the old subscription to be released', async () => {
      try {
        return await Subscription.open(client, consumerArn, shardId, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastEvent.ContinuationSequenceNumber! });
      } catch (error) {
        if ((error as Error).name === 'ResourceInUseException') return undefined;
        throw error;
      }
    });
    expect((await resumed.records(1)).data).toEqual(['e']);
    resumed.close();
  });

  it('ends with ChildShards when the shard is split, and the children carry on', async () => {
    const consumerArn = await activeConsumer('reshard', 'follower');
    await put('reshard', 'before');
    const parent = await Subscription.open(client, consumerArn, 'shardId-000000000000', { Type: 'TRIM_HORIZON' });
    expect((await parent.records(1)).data).toEqual(['before']);

    await client.send(new SplitShardCommand({ StreamName: 'reshard', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: MID_HASH_KEY }));
    let last: SubscribeToShardEvent | undefined;
    for (let event = await parent.next(); event; event = await parent.next()) last = event;
    expect(last?.ContinuationSequenceNumber).toBeUndefined();
    expect(last?.ChildShards?.map((c) => c.ShardId).sort()).toEqual(['shardId-000000000001', 'shardId-000000000002']);
    expect(last?.ChildShards?.[0]?.ParentShards).toEqual(['shardId-000000000000']);

    await waitForStreamStatus(client, 'reshard');
    const children = await Promise.all(['shardId-000000000001', 'shardId-000000000002'].map((id) => Subscription.open(client, consumerArn, id, { Type: 'TRIM_HORIZON' })));
    await client.send(new PutRecordCommand({ StreamName: 'reshard', PartitionKey: 'x', ExplicitHashKey: '1', Data: Buffer.from('low') }));
    await client.send(new PutRecordCommand({ StreamName: 'reshard', PartitionKey: 'x', ExplicitHashKey: MID_HASH_KEY, Data: Buffer.from('high') }));
    expect((await children[0]!.records(1)).data).toEqual(['low']);
    expect((await children[1]!.records(1)).data).toEqual(['high']);
    for (const child of children) child.close();
  });

  it('ends a subscription with a ResourceNotFoundException event when its consumer is deregistered', async () => {
    const consumerArn = await activeConsumer('dropped', 'leaver');
    const subscription = await Subscription.open(client, consumerArn, 'shardId-000000000000', { Type: 'LATEST' });
    expect((await subscription.next())?.Records).toEqual([]);
    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: consumerArn }));
    expect((await rejectionOf(subscription.next())).name).toBe('ResourceNotFoundException');
  });

  it('reports the stream deleted under a subscription as a ResourceNotFoundException event', async () => {
    const consumerArn = await activeConsumer('doomed', 'watcher');
    const subscription = await Subscription.open(client, consumerArn, 'shardId-000000000000', { Type: 'LATEST' });
    expect((await subscription.next())?.Records).toEqual([]);
    await client.send(new DeleteStreamCommand({ StreamName: 'doomed', EnforceConsumerDeletion: true }));
    expect((await rejectionOf(subscription.next())).name).toBe('ResourceNotFoundException');
  });
});
