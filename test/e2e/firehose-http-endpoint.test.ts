/**
 * The HTTP endpoint destination through the real collector against a test receiver that checks
 * every header and the body of Firehose's HTTP endpoint delivery spec, and answers errors on
 * cue: retries keep the request id, only a 200 with the matching requestId succeeds, 413 goes to
 * the S3 backup at once, and exhausted retries land in http-endpoint-failed/ in the AWS shape.
 */
import { CreateDeliveryStreamCommand, DescribeDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { startHttpsReceiver, type HttpsReceiver } from '../helpers/https-receiver.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface Received {
  path: string;
  headers: HttpsReceiver['received'][number]['headers'];
  body: { requestId: string; timestamp: number; records: Array<{ data: string }> };
}

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: FirehoseClient;
let receiver: HttpsReceiver;
const received: Received[] = [];
/** Per path, the answers to give in turn; the last one repeats. */
const script = new Map<string, Array<'ok' | 'wrong-id' | number>>();

function receiverUrl(path: string): string {
  return receiver.url(path);
}

async function createStream(name: string, path: string, extra: Record<string, unknown> = {}): Promise<void> {
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      HttpEndpointDestinationConfiguration: {
        EndpointConfiguration: { Url: receiverUrl(path), Name: 'receiver', AccessKey: 'secret-key' },
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
        RequestConfiguration: { ContentEncoding: 'GZIP', CommonAttributes: [{ AttributeName: 'site', AttributeValue: 'plant-7' }] },
        S3Configuration: { BucketARN: `arn:aws:s3:::${name}-backup`, RoleARN: 'arn:aws:iam::000000000000:role/r', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
        ...extra,
      },
    }),
  );
  await waitForDeliveryStreamStatus(client, name);
}

async function put(name: string, lines: string[]): Promise<void> {
  const result = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: lines.map((line) => ({ Data: Buffer.from(line) })) }));
  expect(result.FailedPutCount).toBe(0);
}

const requestsTo = (path: string) => received.filter((request) => request.path === path);

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-http-');
  receiver = await startHttpsReceiver(dataDir.path, (request) => {
    const body = JSON.parse(request.body.toString()) as Received['body'];
    received.push({ path: request.path, headers: request.headers, body });
    const answers = script.get(request.path) ?? ['ok'];
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    if (typeof answer === 'number') return { status: answer, body: { requestId: body.requestId, timestamp: Date.now(), errorMessage: `scripted ${answer}` } };
    return { status: 200, body: { requestId: answer === 'ok' ? body.requestId : 'some-other-id', timestamp: Date.now() } };
  });
  // Firehose's model demands an https:// endpoint: the collector trusts the receiver's certificate.
  collector = await startCollector(dataDir.path, [], { NODE_EXTRA_CA_CERTS: receiver.certPath });
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  await receiver?.close();
  await dataDir?.remove();
});

describe('HTTP endpoint destination', () => {
  it('sends the spec headers and body, retries with the same request id, and succeeds on a matching 200', async () => {
    script.set('/flaky', [500, 503, 'ok']);
    await createStream('http-flaky', '/flaky');
    await put('http-flaky', ['{"t":1}', '{"t":2}']);
    const requests = await pollUntil('three attempts', () => (requestsTo('/flaky').length >= 3 ? requestsTo('/flaky') : undefined));
    const [first] = requests;
    expect(first!.headers).toMatchObject({
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'x-amz-firehose-protocol-version': '1.0',
      'x-amz-firehose-access-key': 'secret-key',
      'x-amz-firehose-source-arn': 'arn:aws:firehose:us-east-1:000000000000:deliverystream/http-flaky',
    });
    expect(JSON.parse(first!.headers['x-amz-firehose-common-attributes'] as string)).toEqual({ commonAttributes: { site: 'plant-7' } });
    const requestId = first!.headers['x-amz-firehose-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    for (const request of requests) {
      expect(request.headers['x-amz-firehose-request-id']).toBe(requestId);
      expect(request.body.requestId).toBe(requestId);
      expect(Object.keys(request.body).sort()).toEqual(['records', 'requestId', 'timestamp']);
      expect(request.body.records.map((record) => Buffer.from(record.data, 'base64').toString())).toEqual(['{"t":1}', '{"t":2}']);
    }
    // Delivered: no backup objects, and the next batch gets a new request id.
    await put('http-flaky', ['{"t":3}']);
    const next = await pollUntil('a fourth request', () => requestsTo('/flaky')[3]);
    expect(next.headers['x-amz-firehose-request-id']).not.toBe(requestId);
    expect(await listLocalObjects(dataDir.path, 'http-flaky-backup')).toEqual([]);
  });

  it('sends a 413 batch to the S3 backup at once', async () => {
    script.set('/too-large', [413]);
    await createStream('http-413', '/too-large', { RetryOptions: { DurationInSeconds: 7200 } });
    await put('http-413', ['big']);
    const [object] = await pollUntil('a backup object', async () => {
      const objects = await listLocalObjects(dataDir.path, 'http-413-backup');
      return objects.length > 0 ? objects : undefined;
    });
    expect(requestsTo('/too-large')).toHaveLength(1);
    expect(object!.key).toMatch(/^http-endpoint-failed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/http-413-1-/);
    const [record] = object!.body.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(record).toMatchObject({ errorCode: 'HttpEndpoint.PayloadTooLarge', attemptsMade: 1 });
    expect(Buffer.from(record!.rawData, 'base64').toString()).toBe('big');
  });

  it('treats a 200 with another requestId as a failure, and backs the batch up once retries run out', async () => {
    script.set('/wrong-id', ['wrong-id']);
    await createStream('http-wrong-id', '/wrong-id', { RetryOptions: { DurationInSeconds: 0 } });
    await put('http-wrong-id', ['lost?']);
    const [object] = await pollUntil('a backup object', async () => {
      const objects = await listLocalObjects(dataDir.path, 'http-wrong-id-backup');
      return objects.length > 0 ? objects : undefined;
    });
    const [record] = object!.body.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(record).toMatchObject({ errorCode: 'HttpEndpoint.InvalidResponseFromDestination' });
  });

  it('describes the endpoint without its access key', async () => {
    const { DeliveryStreamDescription } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'http-flaky' }));
    const description = DeliveryStreamDescription!.Destinations![0]!.HttpEndpointDestinationDescription!;
    expect(description.EndpointConfiguration).toEqual({ Url: receiverUrl('/flaky'), Name: 'receiver' });
    expect(description).toMatchObject({ S3BackupMode: 'FailedDataOnly', RetryOptions: { DurationInSeconds: 300 }, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } });
    expect(description.S3DestinationDescription).toMatchObject({ BucketARN: 'arn:aws:s3:::http-flaky-backup' });
  });
});
