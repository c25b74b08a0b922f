/**
 * The Splunk destination through the real collector against a test receiver speaking HEC (Splunk
 * itself cannot run here): raw events with the token and a request channel, indexer
 * acknowledgements polled until true, and a refused token sending the batch to the S3 backup as
 * splunk-failed once retries run out.
 */
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { startHttpsReceiver, type HttpsReceiver } from '../helpers/https-receiver.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: FirehoseClient;
let hec: HttpsReceiver;
let ackPolls = 0;

async function createStream(name: string, token: string, retrySeconds?: number): Promise<void> {
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      SplunkDestinationConfiguration: {
        HECEndpoint: hec.url('/'),
        HECEndpointType: 'Raw',
        HECToken: token,
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
        ...(retrySeconds !== undefined ? { RetryOptions: { DurationInSeconds: retrySeconds } } : {}),
        S3Configuration: { BucketARN: `arn:aws:s3:::${name}-backup`, RoleARN: 'arn:aws:iam::000000000000:role/r', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
      },
    }),
  );
  await waitForDeliveryStreamStatus(client, name);
}

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-splunk-');
  hec = await startHttpsReceiver(dataDir.path, (request) => {
    if (request.headers.authorization !== 'Splunk good-token') return { status: 403, body: { text: 'Invalid token', code: 4 } };
    if (request.path.startsWith('/services/collector/ack')) {
      // Not indexed at the first poll, indexed at the second.
      ackPolls++;
      return { status: 200, body: { acks: { '7': ackPolls >= 2 } } };
    }
    return { status: 200, body: { text: 'Success', code: 0, ackId: 7 } };
  });
  collector = await startCollector(dataDir.path, [], { NODE_EXTRA_CA_CERTS: hec.certPath });
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  await hec?.close();
  await dataDir?.remove();
});

describe('Splunk destination', () => {
  it('posts raw events with the token and channel and waits for the indexer acknowledgement', async () => {
    await createStream('to-splunk', 'good-token');
    await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'to-splunk', Records: ['line one\n', 'line two\n'].map((line) => ({ Data: Buffer.from(line) })) }));
    await pollUntil('two ack polls', () => ackPolls >= 2);
    const [post, ...acks] = hec.received.filter((request) => request.headers.authorization === 'Splunk good-token');
    expect(post!.path).toBe('/services/collector/raw');
    expect(post!.body.toString()).toBe('line one\nline two\n');
    const channel = post!.headers['x-splunk-request-channel'];
    expect(channel).toMatch(/^[0-9a-f-]{36}$/);
    for (const ack of acks) {
      expect(ack.path).toBe(`/services/collector/ack?channel=${channel}`);
      expect(JSON.parse(ack.body.toString())).toEqual({ acks: [7] });
    }
    expect(await listLocalObjects(dataDir.path, 'to-splunk-backup')).toEqual([]);
  });

  it('backs a batch up as splunk-failed when HEC refuses it until the retries run out', async () => {
    await createStream('bad-token', 'wrong-token', 0);
    await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'bad-token', Records: [{ Data: Buffer.from('refused') }] }));
    const [object] = await pollUntil('a backup object', async () => {
      const objects = await listLocalObjects(dataDir.path, 'bad-token-backup');
      return objects.length > 0 ? objects : undefined;
    });
    expect(object!.key).toMatch(/^splunk-failed\//);
    const record = JSON.parse(object!.body.toString().trim()) as Record<string, string>;
    expect(record.errorCode).toBe('Splunk.InvalidToken');
    expect(Buffer.from(record.rawData!, 'base64').toString()).toBe('refused');
  });
});
