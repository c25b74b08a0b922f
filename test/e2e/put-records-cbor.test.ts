/**
 * CBOR 1.1 PutRecords through the real collector process, as the Riffle agent, the KPL and the
 * AWS SDK for Java send it — bodies written by cbor2 (independent of the collector's codecs),
 * also in the encodings only a generic decoder takes (indefinite lengths, other member orders,
 * unknown members) and zstd/gzip-compressed. Records are read back with the AWS SDK's
 * GetRecords byte for byte and must land on the shards the SDK's own JSON puts choose; every
 * invalid request must fail exactly as the same input sent by the SDK in JSON does. (Valid SDK
 * puts take the JSON reader, invalid ones the generic path: both are compared here.)
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutRecordsCommand, type KinesisClient, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { decode as decodeCborBytes } from 'cbor2';
import { cborBlob, cborEncode, cborPieces } from '../helpers/cbor-pieces.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zstdCompress } from '../../shared/zstd.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createActiveStream, kinesisClient, readShard, rejectionOf } from '../helpers/kinesis-client.js';
import { sendRaw, type RawResponse } from '../helpers/raw-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const CBOR_CONTENT_TYPE = 'application/x-amz-cbor-1.1';
const STREAM = 'cbor-puts';
const SHARDS = 4;

interface SentRecord {
  data: Buffer;
  partitionKey: string;
}

function sendCborPutRecords(port: number, body: Buffer, contentEncoding?: string): Promise<RawResponse> {
  return sendRaw(port, {
    headers: { 'content-type': CBOR_CONTENT_TYPE, 'x-amz-target': 'Kinesis_20131202.PutRecords', ...(contentEncoding ? { 'content-encoding': contentEncoding } : {}) },
    body,
  });
}

function makeRecords(count: number, prefix: string, dataBytes = 200): SentRecord[] {
  return Array.from({ length: count }, (_, i) => ({ data: randomBytes(dataBytes + (i % 7)), partitionKey: `${prefix}-${i}-${randomBytes(4).toString('hex')}` }));
}

function wireRecords(records: SentRecord[]): Array<{ Data: Uint8Array; PartitionKey: string }> {
  return records.map((r) => ({ Data: cborBlob(r.data), PartitionKey: r.partitionKey }));
}

describe('CBOR PutRecords through the collector process', () => {
  let dataDir: { path: string; remove: () => Promise<void> };
  let collector: CollectorProcess;
  let client: KinesisClient;
  let streamArn: string;
  /** Everything acknowledged, by sequence number, to read back at the end. */
  const acknowledged = new Map<string, SentRecord & { shardId: string }>();

  beforeAll(async () => {
    dataDir = await makeTempDir('riffle-e2e-cbor-puts-');
    collector = await startCollector(dataDir.path, ['--shard-limits', 'off']);
    client = kinesisClient(collector.endpoint, { transport: 'http1' });
    await createActiveStream(client, STREAM, SHARDS);
    streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`;
  });

  afterAll(async () => {
    client?.destroy();
    await collector?.stop();
    await dataDir?.remove();
  });

  /** Sends the body, checks the CBOR answer acknowledges every record, and remembers them for the read-back. */
  async function putAll(body: Buffer, records: SentRecord[], contentEncoding?: string): Promise<string[]> {
    const response = await sendCborPutRecords(collector.port, body, contentEncoding);
    expect(response.status, response.body.toString('latin1')).toBe(200);
    expect(response.headers['content-type']).toBe(CBOR_CONTENT_TYPE);
    const answer = decodeCborBytes(response.body) as { FailedRecordCount: number; Records: Array<{ SequenceNumber: string; ShardId: string }> };
    expect(answer.FailedRecordCount).toBe(0);
    expect(answer.Records).toHaveLength(records.length);
    answer.Records.forEach((entry, i) => {
      expect(Object.keys(entry).sort()).toEqual(['SequenceNumber', 'ShardId']);
      acknowledged.set(entry.SequenceNumber, { ...records[i]!, shardId: entry.ShardId });
    });
    return answer.Records.map((entry) => entry.ShardId);
  }

  it('stores the agent’s shape, routed to the shards the SDK’s JSON puts choose', async () => {
    const records = makeRecords(500, 'agent');
    const shardIds = await putAll(cborEncode({ StreamName: STREAM, Records: wireRecords(records) }), records);
    const viaSdk = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })) }));
    expect(viaSdk.FailedRecordCount).toBe(0);
    expect(viaSdk.Records!.map((entry) => entry.ShardId)).toEqual(shardIds);
    viaSdk.Records!.forEach((entry, i) => acknowledged.set(entry.SequenceNumber!, { ...records[i]!, shardId: entry.ShardId! }));
    expect(new Set(shardIds).size).toBe(SHARDS);
  });

  it('stores bodies only a generic decoder takes: indefinite lengths, other orders, unknown members', async () => {
    const [a, b, c] = [makeRecords(3, 'indefinite'), makeRecords(3, 'reordered'), makeRecords(2, 'unknown')];
    await putAll(cborPieces(0xbf, 'StreamName', STREAM, 'Records', 0x9f, ...wireRecords(a), 0xff, 0xff), a);
    await putAll(cborEncode({ Records: b.map((r) => ({ PartitionKey: r.partitionKey, Data: cborBlob(r.data) })), StreamARN: streamArn }), b);
    const withUnknown = c.map((r) => ({ Extra: { nested: [1, 'x', null] }, Data: cborBlob(r.data), PartitionKey: r.partitionKey }));
    await putAll(cborEncode({ Version: 2, StreamName: STREAM, Records: withUnknown }), c);
  });

  it('stores chunked (indefinite-length) byte and text strings', async () => {
    const [record] = makeRecords(1, 'chunked');
    const { data, partitionKey } = record!;
    const body = cborPieces(
      0xa2,
      'StreamName',
      STREAM,
      'Records',
      0x81,
      0xa2,
      'PartitionKey',
      0x7f,
      partitionKey.slice(0, 5),
      partitionKey.slice(5),
      0xff,
      'Data',
      0x5f,
      cborBlob(data.subarray(0, 10)),
      cborBlob(data.subarray(10)),
      0xff,
    );
    await putAll(body, [record!]);
  });

  it('routes by ExplicitHashKey and keeps non-ASCII partition keys', async () => {
    const records = makeRecords(2, 'explicit');
    const body = cborEncode({ StreamName: STREAM, Records: [{ ...wireRecords(records)[0]!, ExplicitHashKey: '0' }, { ...wireRecords(records)[1]!, ExplicitHashKey: '340282366920938463463374607431768211455' }] });
    expect(await putAll(body, records)).toEqual(['shardId-000000000000', 'shardId-000000000003']);
    const unicode = [{ data: randomBytes(50), partitionKey: 'schlüssel-✓-𝄞' }];
    const [unicodeShard] = await putAll(cborEncode({ StreamName: STREAM, Records: wireRecords(unicode) }), unicode);
    const viaSdk = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: [{ Data: unicode[0]!.data, PartitionKey: unicode[0]!.partitionKey }] }));
    expect(viaSdk.Records![0]!.ShardId).toBe(unicodeShard);
    acknowledged.set(viaSdk.Records![0]!.SequenceNumber!, { ...unicode[0]!, shardId: unicodeShard! });
  });

  it('takes zstd- and gzip-compressed CBOR bodies', async () => {
    const zstd = makeRecords(500, 'zstd');
    await putAll(await zstdCompress(cborEncode({ StreamName: STREAM, Records: wireRecords(zstd) })), zstd, 'zstd');
    const gzip = makeRecords(100, 'gzip');
    await putAll(gzipSync(cborEncode({ StreamName: STREAM, Records: wireRecords(gzip) })), gzip, 'gzip');
  });

  // Each invalid input, sent by the SDK in JSON and as CBOR: same status, same __type, same message.
  const oneRecord = () => ({ Data: randomBytes(10), PartitionKey: 'k' });
  const invalid: Array<[string, () => Partial<PutRecordsCommandInput>]> = [
    ['no records', () => ({ StreamName: STREAM, Records: [] })],
    ['501 records', () => ({ StreamName: STREAM, Records: Array.from({ length: 501 }, oneRecord) })],
    ['no Records member', () => ({ StreamName: STREAM })],
    ['an empty partition key', () => ({ StreamName: STREAM, Records: [oneRecord(), { Data: randomBytes(1), PartitionKey: '' }] })],
    ['a 257-character partition key', () => ({ StreamName: STREAM, Records: [{ Data: randomBytes(1), PartitionKey: 'k'.repeat(257) }] })],
    ['a record without a partition key', () => ({ StreamName: STREAM, Records: [oneRecord(), { Data: randomBytes(1) } as never] })],
    ['a record without data', () => ({ StreamName: STREAM, Records: [{ PartitionKey: 'k' } as never] })],
    ['an ExplicitHashKey off the pattern', () => ({ StreamName: STREAM, Records: [{ ...oneRecord(), ExplicitHashKey: '12a' }] })],
    ['an ExplicitHashKey of 2^128', () => ({ StreamName: STREAM, Records: [{ ...oneRecord(), ExplicitHashKey: '340282366920938463463374607431768211456' }] })],
    ['a record over 1 MiB with its key', () => ({ StreamName: STREAM, Records: [oneRecord(), { Data: randomBytes(1024 * 1024), PartitionKey: 'k' }] })],
    ['records over 5 MiB together', () => ({ StreamName: STREAM, Records: Array.from({ length: 6 }, () => ({ Data: randomBytes(1_000_000), PartitionKey: 'k' })) })],
    ['a stream name off the pattern', () => ({ StreamName: 'no spaces', Records: [oneRecord()] })],
    ['a stream ARN off the pattern', () => ({ StreamARN: 'arn:aws:s3:::bucket', Records: [oneRecord()] })],
    ['an unknown stream', () => ({ StreamName: 'no-such-stream', Records: [oneRecord()] })],
    ['no stream at all', () => ({ Records: [oneRecord()] })],
    ['several violations at once', () => ({ StreamName: 'x'.repeat(129), Records: [{ Data: randomBytes(1), PartitionKey: '', ExplicitHashKey: 'x' }, { Data: randomBytes(1), PartitionKey: 'k'.repeat(300) }] })],
  ];
  for (const [what, makeInput] of invalid) {
    it(`refuses ${what} as the JSON path does`, async () => {
      const input = makeInput();
      const viaSdk = await rejectionOf(client.send(new PutRecordsCommand(input as PutRecordsCommandInput)));
      const wire = { ...input, ...(input.Records ? { Records: input.Records.map((r) => ({ ...r, ...(r.Data ? { Data: cborBlob(Buffer.from(r.Data)) } : {}) })) } : {}) };
      const response = await sendCborPutRecords(collector.port, cborEncode(wire));
      expect(response.headers['content-type']).toBe(CBOR_CONTENT_TYPE);
      const answer = decodeCborBytes(response.body) as { __type: string; message?: string };
      expect({ status: response.status, type: answer.__type.replace(/^.*#/, ''), message: answer.message }).toEqual({
        status: viaSdk.$metadata?.httpStatusCode,
        type: viaSdk.name,
        message: viaSdk.message,
      });
    });
  }

  it('reads every acknowledged record back byte for byte with the SDK', async () => {
    const read = new Map<string, { data: Buffer; partitionKey: string; shardId: string }>();
    for (let shard = 0; shard < SHARDS; shard++) {
      const shardId = `shardId-${String(shard).padStart(12, '0')}`;
      for (const record of (await readShard(client, STREAM, shardId)).records) {
        read.set(record.SequenceNumber!, { data: Buffer.from(record.Data!), partitionKey: record.PartitionKey!, shardId });
      }
    }
    expect(acknowledged.size).toBeGreaterThan(1000);
    // Invalid requests stored nothing: exactly the acknowledged records are there.
    expect(read.size).toBe(acknowledged.size);
    for (const [sequenceNumber, sent] of acknowledged) {
      const got = read.get(sequenceNumber);
      expect(got, sequenceNumber).toBeDefined();
      expect(got!.shardId).toBe(sent.shardId);
      expect(got!.partitionKey).toBe(sent.partitionKey);
      expect(got!.data.equals(sent.data)).toBe(true);
    }
  });
});
