/**
 * The wire protocol through the real process, byte by byte where an SDK would hide it: CBOR 1.1
 * bodies (the Java SDKs' default), compressed request bodies, malformed and oversized requests,
 * the ops endpoints, and SigV4 access keys with an access policy.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { decode as decodeCborBytes, encode as encodeCborBytes, Tag } from 'cbor2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zstdCompress } from '../../shared/zstd.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { kinesisClient, readFromIterator, rejectionOf, createActiveStream, waitForStreamStatus, type Transport } from '../helpers/kinesis-client.js';
import { errorTypeOf, sendKinesisJson, sendRaw, type RawResponse } from '../helpers/raw-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const CBOR_CONTENT_TYPE = 'application/x-amz-cbor-1.1';
// cbor2, an implementation independent of the collector's, as a stand-in for the Java SDK's codec.
// (cbor2 writes a Buffer as its toJSON() map: blobs go in as plain Uint8Arrays.)
// ignoreGlobalTags: cbor2 would read tag 1 as RFC 8949 seconds; AWS means milliseconds.

function sendCbor(port: number, operation: string, input: Record<string, unknown>): Promise<RawResponse> {
  return sendRaw(port, {
    headers: { 'content-type': CBOR_CONTENT_TYPE, 'x-amz-target': `Kinesis_20131202.${operation}` },
    body: Buffer.from(encodeCborBytes(input)),
  });
}

function decodeCbor(response: RawResponse): Record<string, any> {
  return decodeCborBytes(response.body, { ignoreGlobalTags: true }) as Record<string, any>;
}

function json(response: RawResponse): Record<string, any> {
  return JSON.parse(response.body.toString('utf8')) as Record<string, any>;
}

describe('wire protocol of an open collector', () => {
  const streamName = 'protocol';
  const onlyShard = 'shardId-000000000000';
  let dataDir: { path: string; remove: () => Promise<void> };
  let collector: CollectorProcess;
  let client: KinesisClient;
  /** Records this file put to the stream, for the IncomingRecords metric. */
  let recordsPut = 0;

  /** The `count` records from `firstSequenceNumber` on, as GetRecords returns them through the SDK. */
  async function readBack(firstSequenceNumber: string, count: number): Promise<Array<{ partitionKey: string; data: string }>> {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: onlyShard, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: firstSequenceNumber }),
    );
    const read = await readFromIterator(client, ShardIterator!);
    return read.records.slice(0, count).map((r) => ({ partitionKey: r.PartitionKey!, data: Buffer.from(r.Data!).toString('hex') }));
  }

  beforeAll(async () => {
    dataDir = await makeTempDir('riffle-e2e-protocol-');
    // Read limits (5 GetRecords/s per shard) are not what this file tests.
    collector = await startCollector(dataDir.path, ['--shard-limits', 'off']);
    client = kinesisClient(collector.endpoint, { transport: 'http1' });
    await createActiveStream(client, streamName);
  });

  afterAll(async () => {
    client?.destroy();
    await collector?.stop();
    await dataDir?.remove();
  });

  it('round-trips a record through PutRecord and GetRecords in CBOR 1.1, blobs as byte strings', async () => {
    const data = randomBytes(300);
    const put = await sendCbor(collector.port, 'PutRecord', { StreamName: streamName, PartitionKey: 'cbor-key', Data: new Uint8Array(data) });
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe(CBOR_CONTENT_TYPE);
    const { ShardId: shardId, SequenceNumber: sequenceNumber } = decodeCbor(put);
    expect(shardId).toBe(onlyShard);
    expect(sequenceNumber).toMatch(/^\d+$/);
    recordsPut++;

    const iterator = decodeCbor(
      await sendCbor(collector.port, 'GetShardIterator', { StreamName: streamName, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: sequenceNumber }),
    );
    const got = await sendCbor(collector.port, 'GetRecords', { ShardIterator: iterator.ShardIterator, Limit: 1 });
    expect(got.status).toBe(200);
    const page = decodeCbor(got);
    expect(page.Records).toHaveLength(1);
    const [record] = page.Records;
    expect(Buffer.isBuffer(record.Data) || record.Data instanceof Uint8Array).toBe(true);
    expect(Buffer.from(record.Data).equals(data)).toBe(true);
    expect(record).toMatchObject({ PartitionKey: 'cbor-key', SequenceNumber: sequenceNumber });
    // AWS's CBOR timestamps are tag 1 around epoch MILLISECONDS (what the Java SDKs write and read),
    // not RFC 8949's seconds.
    const arrival = record.ApproximateArrivalTimestamp;
    expect(arrival).toBeInstanceOf(Tag);
    expect((arrival as Tag).tag).toBe(1);
    expect(Math.abs(Number((arrival as Tag).contents) - Date.now())).toBeLessThan(60_000);
    expect(page.NextShardIterator).toEqual(expect.any(String));
    expect(page.MillisBehindLatest).toEqual(expect.any(Number));
  });

  it('answers errors to a CBOR request in CBOR', async () => {
    const missing = await sendCbor(collector.port, 'DescribeStreamSummary', { StreamName: 'no-such-stream' });
    expect(missing.status).toBe(400);
    expect(String(decodeCbor(missing).__type).replace(/^.*#/, '')).toBe('ResourceNotFoundException');
  });

  it('accepts a gzip-encoded PutRecords body', async () => {
    const records = Array.from({ length: 5 }, (_, i) => ({ PartitionKey: `gzip-${i}`, Data: randomBytes(100 + i) }));
    const body = JSON.stringify({ StreamName: streamName, Records: records.map((r) => ({ PartitionKey: r.PartitionKey, Data: r.Data.toString('base64') })) });
    const response = await sendKinesisJson(collector.port, 'PutRecords', gzipSync(body), { headers: { 'content-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    const result = json(response);
    expect(result.FailedRecordCount).toBe(0);
    expect(result.Records).toHaveLength(records.length);
    recordsPut += records.length;
    expect(await readBack(result.Records[0].SequenceNumber, records.length)).toEqual(records.map((r) => ({ partitionKey: r.PartitionKey, data: r.Data.toString('hex') })));
  });

  it('accepts a zstd-encoded PutRecords body', async () => {
    const records = Array.from({ length: 5 }, (_, i) => ({ PartitionKey: `zstd-${i}`, Data: randomBytes(200 + i) }));
    const body = JSON.stringify({ StreamName: streamName, Records: records.map((r) => ({ PartitionKey: r.PartitionKey, Data: r.Data.toString('base64') })) });
    const response = await sendKinesisJson(collector.port, 'PutRecords', await zstdCompress(Buffer.from(body)), { headers: { 'content-encoding': 'zstd' } });
    expect(response.status).toBe(200);
    const result = json(response);
    expect(result.FailedRecordCount).toBe(0);
    recordsPut += records.length;
    expect(await readBack(result.Records[0].SequenceNumber, records.length)).toEqual(records.map((r) => ({ partitionKey: r.PartitionKey, data: r.Data.toString('hex') })));
  });

  it('answers malformed JSON with 400 SerializationException', async () => {
    const response = await sendKinesisJson(collector.port, 'PutRecord', `{"StreamName": "${streamName}", "PartitionKey": `);
    expect(response.status).toBe(400);
    expect(errorTypeOf(response)).toBe('SerializationException');
  });

  it('answers an unknown X-Amz-Target with UnknownOperationException', async () => {
    const response = await sendKinesisJson(collector.port, 'NoSuchOperation', '{}');
    expect(response.status).toBe(400);
    expect(errorTypeOf(response)).toBe('UnknownOperationException');
  });

  it('refuses an oversized body with a clean 4xx and keeps serving', async () => {
    // Keep-alive, as the SDKs and the CLI connect. (Over a `Connection: close` request the 413 is
    // sometimes lost to EPIPE — reported to the lead, see collector/server.ts.)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Far above any valid request: PutRecords is at most 5 MiB of data, about 6.7 MiB as base64 JSON.
      const oversized = Buffer.alloc(64 * 1024 * 1024, 'a');
      const response = await sendKinesisJson(collector.port, 'PutRecords', oversized, { agent });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);

      const next = await sendKinesisJson(collector.port, 'ListStreams', '{}', { agent });
      expect(next.status).toBe(200);
      expect(json(next).StreamNames).toContain(streamName);
    } finally {
      agent.destroy();
    }
  });

  it('serves GET /health as JSON', async () => {
    const response = await sendRaw(collector.port, { method: 'GET', path: '/health' });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
    expect(json(response)).toMatchObject({ status: 'ok', streams: 1 });
  });

  it('serves GET /metrics with IncomingRecords for the stream', async () => {
    const put = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: [{ PartitionKey: 'metric', Data: Buffer.from('m') }] }));
    expect(put.FailedRecordCount).toBe(0);
    recordsPut += 1;
    const response = await sendRaw(collector.port, { method: 'GET', path: '/metrics' });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/^text\/plain/);
    const line = new RegExp(`^kinesis_IncomingRecords\\{StreamName="${streamName}"\\} (\\d+)$`, 'm').exec(response.body.toString('utf8'));
    expect(line, 'an IncomingRecords sample for the stream').not.toBeNull();
    expect(Number(line![1])).toBe(recordsPut);
  });
});

describe('SigV4 access keys and access policies', () => {
  const fullKey = { accessKeyId: 'AKIDRIFFLEFULL', secretAccessKey: 'full-access-secret' };
  const deviceKey = { accessKeyId: 'AKIDRIFFLEDEVICE', secretAccessKey: 'device-secret' };
  let dataDir: { path: string; remove: () => Promise<void> };
  let collector: CollectorProcess;
  const clients: KinesisClient[] = [];

  function signedClient(credentials: { accessKeyId: string; secretAccessKey: string }, transport: Transport = 'http2'): KinesisClient {
    // One attempt: authentication errors are final, and a retried call would only hide what happened.
    const client = kinesisClient(collector.endpoint, { credentials, transport, maxAttempts: 1 });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    dataDir = await makeTempDir('riffle-e2e-sigv4-');
    const configFile = join(dataDir.path, 'collector.json');
    await writeFile(
      configFile,
      JSON.stringify({
        accessKeys: [
          { ...fullKey, name: 'admin' },
          { ...deviceKey, name: 'device', policy: { actions: ['kinesis:PutRecord*'], resources: ['arn:aws:kinesis:*:*:stream/device-*'] } },
        ],
      }),
    );
    collector = await startCollector(join(dataDir.path, 'data'), ['--config', configFile]);
    // Signed over HTTP/2 (the SDK's default), where the SDK signs `:authority` rather than `host`.
    const admin = signedClient(fullKey, 'http2');
    for (const name of ['device-1', 'other-stream']) await admin.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    for (const name of ['device-1', 'other-stream']) await waitForStreamStatus(admin, name);
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await collector?.stop();
    await dataDir?.remove();
  });

  it('lets the full-access key do anything, over HTTP/2 and HTTP/1.1', async () => {
    for (const transport of ['http2', 'http1'] as const) {
      const listed = await signedClient(fullKey, transport).send(new ListStreamsCommand({}));
      expect(listed.StreamNames).toEqual(['device-1', 'other-stream']);
    }
  });

  it('answers an unsigned request with MissingAuthenticationTokenException', async () => {
    const response = await sendKinesisJson(collector.port, 'ListStreams', '{}');
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(errorTypeOf(response)).toBe('MissingAuthenticationTokenException');
  });

  it('answers a wrong secret with InvalidSignatureException', async () => {
    const error = await rejectionOf(signedClient({ accessKeyId: fullKey.accessKeyId, secretAccessKey: 'not-the-secret' }).send(new ListStreamsCommand({})));
    expect(error.name).toBe('InvalidSignatureException');
  });

  it('answers an unknown access key with UnrecognizedClientException', async () => {
    const error = await rejectionOf(signedClient({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'whatever' }).send(new ListStreamsCommand({})));
    expect(error.name).toBe('UnrecognizedClientException');
  });

  it('lets the restricted key put to device-* streams and nothing else', async () => {
    for (const transport of ['http2', 'http1'] as const) {
      const device = signedClient(deviceKey, transport);
      const put = await device.send(new PutRecordCommand({ StreamName: 'device-1', PartitionKey: 'sensor', Data: Buffer.from(`reading over ${transport}`) }));
      expect(put.ShardId).toBe('shardId-000000000000');
      const batch = await device.send(new PutRecordsCommand({ StreamName: 'device-1', Records: [{ PartitionKey: 'sensor', Data: Buffer.from('batch') }] }));
      expect(batch.FailedRecordCount).toBe(0);

      expect((await rejectionOf(device.send(new ListStreamsCommand({})))).name, `ListStreams over ${transport}`).toBe('AccessDeniedException');
      expect(
        (await rejectionOf(device.send(new PutRecordCommand({ StreamName: 'other-stream', PartitionKey: 'sensor', Data: Buffer.from('x') })))).name,
        `PutRecord to other-stream over ${transport}`,
      ).toBe('AccessDeniedException');
      expect((await rejectionOf(device.send(new DescribeStreamSummaryCommand({ StreamName: 'device-1' })))).name).toBe('AccessDeniedException');
    }
  });
});
