/**
 * Enhanced fan-out consumer registration through the AWS SDK v3 (default HTTP/2 handler) against
 * the real collector process: CREATING → ACTIVE after the status delay, AWS-formed ARNs, the
 * 20-per-stream quota, paging, DeleteStream's EnforceConsumerDeletion, deregistration, and that
 * registrations survive a restart.
 */
import {
  DeleteResourcePolicyCommand,
  DeleteStreamCommand,
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  GetResourcePolicyCommand,
  ListStreamConsumersCommand,
  ListTagsForResourceCommand,
  PutResourcePolicyCommand,
  RegisterStreamConsumerCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type Consumer,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createActiveStream, kinesisClient, rejectionOf, waitForStreamGone } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const STATUS_DELAY_MS = 300;
const streamArn = (name: string) => `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;

async function start(): Promise<void> {
  collector = await startCollector(dir.path, ['--status-delay-ms', String(STATUS_DELAY_MS)]);
  client = kinesisClient(collector.endpoint);
}

async function consumerStatus(consumerArn: string): Promise<string | undefined> {
  try {
    const { ConsumerDescription } = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerArn }));
    return ConsumerDescription?.ConsumerStatus;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return 'GONE';
    throw error;
  }
}

async function listAll(stream: string, pageSize: number): Promise<Consumer[]> {
  const consumers: Consumer[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStreamConsumersCommand({ StreamARN: streamArn(stream), MaxResults: pageSize, ...(nextToken ? { NextToken: nextToken } : {}) }));
    consumers.push(...(page.Consumers ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return consumers;
}

describe('enhanced fan-out consumer registration (SDK v3, HTTP/2)', () => {
  beforeEach(async () => {
    dir = await makeTempDir();
    await start();
  });
  afterEach(async () => {
    client.destroy();
    await collector.stop();
    await dir.remove();
  });

  it('registers consumers CREATING → ACTIVE with AWS ARNs, lists, describes and deregisters them, durably', async () => {
    await createActiveStream(client, 'fan');
    const before = Math.floor(Date.now() / 1000);
    const { Consumer: registered } = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn('fan'), ConsumerName: 'dashboard' }));
    expect(registered?.ConsumerStatus).toBe('CREATING');
    const arn = registered!.ConsumerARN!;
    const match = /^arn:aws:kinesis:us-east-1:000000000000:stream\/fan\/consumer\/dashboard:(\d+)$/.exec(arn);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(before);
    expect(Number(match![1])).toBe(Math.floor(registered!.ConsumerCreationTimestamp!.getTime() / 1000));
    await pollUntil('consumer ACTIVE', async () => (await consumerStatus(arn)) === 'ACTIVE');

    const byName = await client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn('fan'), ConsumerName: 'dashboard' }));
    expect(byName.ConsumerDescription).toMatchObject({ ConsumerARN: arn, StreamARN: streamArn('fan'), ConsumerStatus: 'ACTIVE' });
    expect((await rejectionOf(client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn('fan'), ConsumerName: 'dashboard' })))).name).toBe('ResourceInUseException');
    expect((await rejectionOf(client.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn.replace(/:\d+$/, ':1') })))).name).toBe('ResourceNotFoundException');

    // 20 consumers per stream (Kinesis quota); the 21st is refused.
    for (let i = 1; i < 20; i++) await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn('fan'), ConsumerName: `c${i}` }));
    expect((await rejectionOf(client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn('fan'), ConsumerName: 'c20' })))).name).toBe('LimitExceededException');
    const listed = await listAll('fan', 7);
    expect(listed.map((c) => c.ConsumerName).sort()).toEqual(['dashboard', ...Array.from({ length: 19 }, (_, i) => `c${i + 1}`)].sort());
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'fan' }));
    expect(summary.StreamDescriptionSummary?.ConsumerCount).toBe(20);
    const created = summary.StreamDescriptionSummary!.StreamCreationTimestamp!;
    expect((await client.send(new ListStreamConsumersCommand({ StreamARN: streamArn('fan'), StreamCreationTimestamp: created }))).Consumers).toHaveLength(20);
    const otherTime = new Date(created.getTime() - 60_000);
    expect((await rejectionOf(client.send(new ListStreamConsumersCommand({ StreamARN: streamArn('fan'), StreamCreationTimestamp: otherTime })))).name).toBe('ResourceNotFoundException');

    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    expect(await consumerStatus(arn)).toBe('DELETING');
    await pollUntil('consumer gone', async () => (await consumerStatus(arn)) === 'GONE');

    // Registrations are in the metadata store: a restart keeps them.
    client.destroy();
    expect(await collector.stop()).toBe(0);
    await start();
    expect((await listAll('fan', 100)).map((c) => c.ConsumerName)).toHaveLength(19);
    expect(await consumerStatus((await listAll('fan', 100))[0]!.ConsumerARN!)).toBe('ACTIVE');
  });

  it('keeps tags and a resource policy per consumer, addressed by its ARN', async () => {
    await createActiveStream(client, 'tagged');
    const { Consumer } = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn('tagged'), ConsumerName: 'billing', Tags: { team: 'finance' } }));
    const arn = Consumer!.ConsumerARN!;
    const tags = async (resource: string) => (await client.send(new ListTagsForResourceCommand({ ResourceARN: resource }))).Tags;
    expect(await tags(arn)).toEqual([{ Key: 'team', Value: 'finance' }]);
    await client.send(new TagResourceCommand({ ResourceARN: arn, Tags: { env: 'edge' } }));
    await client.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['team'] }));
    expect(await tags(arn)).toEqual([{ Key: 'env', Value: 'edge' }]);
    expect(await tags(streamArn('tagged'))).toEqual([]);

    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kinesis:SubscribeToShard', Resource: arn }] });
    await client.send(new PutResourcePolicyCommand({ ResourceARN: arn, Policy: policy }));
    expect((await client.send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy).toBe(policy);
    expect((await client.send(new GetResourcePolicyCommand({ ResourceARN: streamArn('tagged') }))).Policy).toBe('{}');
    await client.send(new DeleteResourcePolicyCommand({ ResourceARN: arn }));
    expect((await client.send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy).toBe('{}');
    expect((await rejectionOf(tags(`${streamArn('tagged')}/consumer/nobody:1`))).name).toBe('ResourceNotFoundException');
  });

  it('refuses DeleteStream while consumers are registered unless EnforceConsumerDeletion is set', async () => {
    await createActiveStream(client, 'held');
    await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn('held'), ConsumerName: 'archiver' }));
    expect((await rejectionOf(client.send(new DeleteStreamCommand({ StreamName: 'held' })))).name).toBe('ResourceInUseException');
    expect((await rejectionOf(client.send(new DeleteStreamCommand({ StreamName: 'held', EnforceConsumerDeletion: false })))).name).toBe('ResourceInUseException');
    await client.send(new DeleteStreamCommand({ StreamName: 'held', EnforceConsumerDeletion: true }));
    await waitForStreamGone(client, 'held');
    // A stream of the same name starts without the old consumers.
    await createActiveStream(client, 'held');
    expect(await listAll('held', 100)).toEqual([]);
  });
});
