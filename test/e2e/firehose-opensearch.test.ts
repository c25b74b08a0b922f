/**
 * The OpenSearch destination through the real collector against a test receiver speaking the
 * `_bulk` API (OpenSearch itself cannot run here): NDJSON actions with rotated index names and
 * document ids that stay the same across a retried request, a 429 item making the batch retry,
 * and a refused document going to the S3 backup as AmazonOpenSearchService-failed.
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
let cluster: HttpsReceiver;
let throttleNext = true;

/** The bulk request as action/document pairs. */
function bulkPairs(body: Buffer): Array<{ action: { index: { _index: string; _id?: string } }; document: Record<string, unknown> }> {
  const lines = body.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
  const pairs = [];
  for (let i = 0; i < lines.length; i += 2) pairs.push({ action: lines[i] as { index: { _index: string; _id?: string } }, document: lines[i + 1]! });
  return pairs;
}

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-opensearch-');
  cluster = await startHttpsReceiver(dataDir.path, (request) => {
    const pairs = bulkPairs(request.body);
    // The first request has one item throttled (the batch must be retried whole); a document
    // with "bad" in it is always refused as a mapping error.
    const throttle = throttleNext;
    throttleNext = false;
    const items = pairs.map(({ document }, index) =>
      document.bad
        ? { index: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [bad]' } } }
        : throttle && index === 0
          ? { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } }
          : { index: { status: 201 } },
    );
    return { status: 200, body: { took: 1, errors: items.some((item) => item.index.status >= 300), items } };
  });
  collector = await startCollector(dataDir.path, [], { NODE_EXTRA_CA_CERTS: cluster.certPath });
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  await cluster?.close();
  await dataDir?.remove();
});

describe('OpenSearch destination', () => {
  it('bulk-indexes into the rotated index with stable ids, retries a throttled batch and backs up refused documents', async () => {
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'to-search',
        AmazonopensearchserviceDestinationConfiguration: {
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          ClusterEndpoint: cluster.url('/'),
          IndexName: 'events',
          IndexRotationPeriod: 'OneDay',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
          S3Configuration: { BucketARN: 'arn:aws:s3:::search-backup', RoleARN: 'arn:aws:iam::000000000000:role/r', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
        },
      }),
    );
    await waitForDeliveryStreamStatus(client, 'to-search');
    await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'to-search', Records: ['{"n":1}', '{"bad":true}', '{"n":3}'].map((line) => ({ Data: Buffer.from(line) })) }),
    );
    const [failed] = await pollUntil('a backup object', async () => {
      const objects = await listLocalObjects(dataDir.path, 'search-backup');
      return objects.length > 0 ? objects : undefined;
    });
    expect(cluster.received).toHaveLength(2);
    const [first, retry] = cluster.received.map((request) => bulkPairs(request.body));
    expect(cluster.received[0]!.path).toBe('/_bulk');
    expect(cluster.received[0]!.headers['content-type']).toBe('application/x-ndjson');
    const day = new Date().toISOString().slice(0, 10);
    expect(first!.map((pair) => pair.action.index._index)).toEqual([`events-${day}`, `events-${day}`, `events-${day}`]);
    expect(first!.map((pair) => pair.document)).toEqual([{ n: 1 }, { bad: true }, { n: 3 }]);
    const ids = first!.map((pair) => pair.action.index._id);
    expect(new Set(ids).size).toBe(3);
    expect(retry!.map((pair) => pair.action.index._id)).toEqual(ids);
    expect(failed!.key).toMatch(/^AmazonOpenSearchService-failed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/to-search-1-/);
    const [record] = failed!.body.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    expect(record).toMatchObject({ errorCode: 'OS.mapper_parsing_exception', errorMessage: 'failed to parse field [bad]' });
    expect(Buffer.from(record!.rawData!, 'base64').toString()).toBe('{"bad":true}');
  });
});
