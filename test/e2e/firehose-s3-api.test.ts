/**
 * S3 destinations through the real S3 API: the collector configured with an S3 endpoint writes
 * with @aws-sdk/client-s3 to s3rver (an S3 server in Node, run here in-process on a random port);
 * keys, compression and error output are the same as for the local folder.
 */
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

// s3rver's fixed credentials.
const s3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

let dataDir: { path: string; remove: () => Promise<void> };
let s3server: S3rverInstance;
let s3: S3Client;
let collector: CollectorProcess;
let client: FirehoseClient;

async function objects(bucket: string): Promise<Array<{ key: string; body: Buffer }>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const result = [];
  for (const entry of listed.Contents ?? []) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: entry.Key! }));
    result.push({ key: entry.Key!, body: Buffer.from(await object.Body!.transformToByteArray()) });
  }
  return result;
}

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-s3-');
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dataDir.path, 's3rver'), configureBuckets: [{ name: 'remote-bucket' }] });
  const { port } = await s3server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3Credentials });
  const configFile = join(dataDir.path, 'collector.json');
  await writeFile(configFile, JSON.stringify({ s3: { endpoint, ...s3Credentials } }));
  collector = await startCollector(join(dataDir.path, 'data'), ['--config', configFile]);
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  s3?.destroy();
  await collector?.stop();
  await s3server?.close();
  await dataDir?.remove();
});

describe('S3 API destination', () => {
  it('writes Firehose-named, compressed objects and error output through PutObject', async () => {
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'to-s3',
        ExtendedS3DestinationConfiguration: {
          BucketARN: 'arn:aws:s3:::remote-bucket',
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          Prefix: 'data/',
          CompressionFormat: 'GZIP',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
          ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'Decompression' }, { Type: 'AppendDelimiterToRecord' }] },
        },
      }),
    );
    await waitForDeliveryStreamStatus(client, 'to-s3');
    const { gzipSync } = await import('node:zlib');
    const batch = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'to-s3', Records: [{ Data: gzipSync('one') }, { Data: Buffer.from('plain') }, { Data: gzipSync('two') }] }));
    expect(batch.FailedPutCount).toBe(0);
    const stored = await pollUntil('data and error objects in remote-bucket', async () => {
      const all = await objects('remote-bucket');
      return all.some((object) => object.key.startsWith('data/')) && all.some((object) => object.key.startsWith('processing-failed/')) ? all : undefined;
    });
    const data = stored.find((object) => object.key.startsWith('data/'))!;
    expect(data.key).toMatch(/^data\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/to-s3-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$/);
    expect(gunzipSync(data.body).toString()).toBe('one\ntwo\n');
    const failed = stored.find((object) => object.key.startsWith('processing-failed/'))!;
    const record = JSON.parse(failed.body.toString().trim()) as Record<string, string>;
    expect(Buffer.from(record.rawData!, 'base64').toString()).toBe('plain');
  });
});
