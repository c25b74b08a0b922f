/**
 * DirectPut delivery into a local bucket through the real collector process and
 * @aws-sdk/client-firehose: Firehose's object keys, every CompressionFormat (each decoded by an
 * independent reader where one exists: gunzip, unzip, the zstd CLI), custom prefixes, simple
 * processors and the processing-failed error output, and nothing lost across kill -9.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CreateDeliveryStreamCommand,
  type CreateDeliveryStreamCommandInput,
  FirehoseClient,
  PutRecordBatchCommand,
  PutRecordCommand,
  UpdateDestinationCommand,
} from '@aws-sdk/client-firehose';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus, type LocalObject } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: FirehoseClient;

const roleArn = 'arn:aws:iam::000000000000:role/firehose';
const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const timePrefix = '\\d{4}/\\d{2}/\\d{2}/\\d{2}/';
const suffixTime = '\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}';

async function createStream(name: string, s3: Partial<NonNullable<CreateDeliveryStreamCommandInput['ExtendedS3DestinationConfiguration']>>): Promise<void> {
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${name}`, RoleARN: roleArn, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 }, ...s3 },
    }),
  );
  await waitForDeliveryStreamStatus(client, name);
}

async function putLines(name: string, lines: string[]): Promise<void> {
  const result = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: lines.map((line) => ({ Data: Buffer.from(line) })) }));
  expect(result.FailedPutCount).toBe(0);
}

/** Polls the bucket until its decoded objects hold `expected` bytes in total. */
async function waitForObjects(bucket: string, expectedBytes: number, decode: (object: LocalObject) => Buffer = (object) => object.body): Promise<LocalObject[]> {
  return pollUntil(
    `${expectedBytes} bytes in bucket ${bucket}`,
    async () => {
      const objects = await listLocalObjects(dataDir.path, bucket);
      const total = objects.reduce((sum, object) => sum + decode(object).length, 0);
      return total >= expectedBytes ? objects : undefined;
    },
    { describe: async () => JSON.stringify((await listLocalObjects(dataDir.path, bucket)).map((object) => object.key)) },
  );
}

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-');
  collector = await startCollector(dataDir.path);
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  await dataDir?.remove();
});

describe('DirectPut into a local bucket', () => {
  it('names objects as Firehose does and keeps the records in order', async () => {
    await createStream('plain', {});
    const lines = Array.from({ length: 20 }, (_, i) => `{"n":${i}}\n`);
    // Object order is not observable (see listLocalObjects), so the PutRecord waits for the
    // batch's objects: whatever appears after them holds the PutRecord's record.
    await putLines('plain', lines.slice(0, 10));
    const first = await waitForObjects('plain', lines.slice(0, 10).join('').length);
    // Each object of the batch holds a run of its records in order; together, all of them once.
    for (const object of first) expect(lines.slice(0, 10).join('')).toContain(object.body.toString());
    expect(first.flatMap((object) => object.body.toString().split(/(?<=\n)/)).sort()).toEqual(lines.slice(0, 10).sort());
    await client.send(new PutRecordCommand({ DeliveryStreamName: 'plain', Record: { Data: Buffer.from(lines.slice(10).join('')) } }));
    const objects = await waitForObjects('plain', lines.join('').length);
    const firstKeys = new Set(first.map((object) => object.key));
    expect(objects.filter((object) => !firstKeys.has(object.key)).map((object) => object.body.toString())).toEqual([lines.slice(10).join('')]);
    for (const object of objects) expect(object.key).toMatch(new RegExp(`^${timePrefix}plain-1-${suffixTime}-${uuid}$`));
    // The time prefix and the name's time are the oldest record's arrival hour, in UTC.
    const [, year, month, day, hour] = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(objects[0]!.key)!;
    expect(objects[0]!.key).toContain(`plain-1-${year}-${month}-${day}-${hour}-`);
    expect(Math.abs(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour)) - Date.now())).toBeLessThan(2 * 3600_000);
    // GET /metrics carries Firehose's CloudWatch names per delivery stream.
    const metrics = await (await fetch(`${collector.endpoint}/metrics`)).text();
    expect(metrics).toContain('firehose_IncomingRecords{DeliveryStreamName="plain"} 11');
    expect(metrics).toContain('firehose_IncomingPutRequests{DeliveryStreamName="plain"} 2');
    expect(metrics).toContain(`firehose_DeliveryToS3_Bytes{DeliveryStreamName="plain"} ${lines.join('').length}`);
  });

  it('writes every CompressionFormat readably', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `{"reading":${i},"text":"${'x'.repeat(i % 50)}"}\n`);
    const expected = lines.join('');
    const decoders: Record<string, { extension: string; decode: (object: LocalObject) => Buffer }> = {
      GZIP: { extension: '.gz', decode: (object) => gunzipSync(object.body) },
      ZIP: { extension: '.zip', decode: (object) => withFile(object, (path) => execFileSync('unzip', ['-p', path])) },
      ZSTD: { extension: '.zst', decode: (object) => withFile(object, (path) => execFileSync('zstd', ['-dc', path])) },
      Snappy: { extension: '.snappy', decode: (object) => decodeSnappyFramed(object.body) },
      HADOOP_SNAPPY: { extension: '.snappy', decode: (object) => decodeHadoopSnappy(object.body) },
      UNCOMPRESSED: { extension: '', decode: (object) => object.body },
    };
    for (const [format, { extension, decode }] of Object.entries(decoders)) {
      const name = `compressed-${format.toLowerCase().replace('_', '-')}`;
      await createStream(name, { CompressionFormat: format as 'GZIP' });
      await putLines(name, lines);
      const objects = await waitForObjects(name, expected.length, decode);
      expect(objects.map((object) => decode(object).toString()).join(''), format).toBe(expected);
      for (const object of objects) expect(object.key).toMatch(new RegExp(`-${uuid}${extension.replace('.', '\\.')}$`));
    }
  });

  it('evaluates custom prefixes and the FileExtension', async () => {
    await createStream('custom', {
      Prefix: 'year=!{timestamp:yyyy}/month=!{timestamp:MM}/!{firehose:random-string}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy}/',
      FileExtension: '.json',
      CustomTimeZone: 'Asia/Tokyo',
    });
    await putLines('custom', ['{"a":1}\n']);
    const [object] = await waitForObjects('custom', 8);
    const tokyo = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit' }).formatToParts(new Date());
    const year = tokyo.find((part) => part.type === 'year')!.value;
    const month = tokyo.find((part) => part.type === 'month')!.value;
    expect(object!.key).toMatch(new RegExp(`^year=${year}/month=${month}/[a-zA-Z0-9]{11}/custom-1-${suffixTime}-${uuid}\\.json$`));
  });

  it('runs processors and writes failed records in the error record shape', async () => {
    await createStream('processed', {
      ErrorOutputPrefix: 'failed/!{firehose:error-output-type}/',
      Prefix: 'ok/!{timestamp:yyyy}/',
      ProcessingConfiguration: {
        Enabled: true,
        Processors: [
          { Type: 'AppendDelimiterToRecord', Parameters: [] },
          { Type: 'Decompression', Parameters: [{ ParameterName: 'CompressionFormat', ParameterValue: 'GZIP' }] },
          { Type: 'RecordDeAggregation', Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }] },
        ],
      },
    });
    const { gzipSync } = await import('node:zlib');
    await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'processed',
        Records: [{ Data: gzipSync('{"a":1}{"a":2}') }, { Data: Buffer.from('not gzip') }, { Data: gzipSync('{"b":3}') }],
      }),
    );
    const objects = await pollUntil('data and error objects', async () => {
      const all = await listLocalObjects(dataDir.path, 'processed');
      return all.some((object) => object.key.startsWith('failed/')) && all.some((object) => object.key.startsWith('ok/')) ? all : undefined;
    });
    const data = objects.filter((object) => object.key.startsWith('ok/'));
    expect(data.map((object) => object.body.toString()).join('')).toBe('{"a":1}\n{"a":2}\n{"b":3}\n');
    const errors = objects.filter((object) => object.key.startsWith('failed/'));
    expect(errors[0]!.key).toMatch(new RegExp(`^failed/processing-failed/processed-1-${suffixTime}-${uuid}$`));
    const [failure] = errors[0]!.body.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(failure!)).toEqual(['attemptsMade', 'arrivalTimestamp', 'errorCode', 'errorMessage', 'attemptEndingTimestamp', 'rawData']);
    expect(Buffer.from(failure!.rawData as string, 'base64').toString()).toBe('not gzip');
    expect(failure!.errorCode).toBe('Decompression.InvalidData');
  });
});

describe('source record backup', () => {
  it('keeps the source records, before processing, in the S3BackupConfiguration bucket', async () => {
    await createStream('backed-up', {
      ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord' }] },
      S3BackupMode: 'Enabled',
      S3BackupConfiguration: { BucketARN: 'arn:aws:s3:::source-backup', RoleARN: roleArn, Prefix: 'raw/', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
    });
    await putLines('backed-up', ['a', 'b']);
    const [delivered] = await waitForObjects('backed-up', 4);
    expect(delivered!.body.toString()).toBe('a\nb\n');
    const [backup] = await waitForObjects('source-backup', 2);
    expect(backup!.key).toMatch(new RegExp(`^raw/${timePrefix}backed-up-1-${suffixTime}-${uuid}$`));
    expect(backup!.body.toString()).toBe('ab');
  });
});

describe('durability', () => {
  it('delivers every acknowledged record after kill -9 mid-buffer', async () => {
    // A long buffer interval keeps the records in the buffer log when the process dies.
    await createStream('durable', { BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 } });
    const lines = Array.from({ length: 300 }, (_, i) => `record-${i}\n`);
    for (let i = 0; i < lines.length; i += 100) await putLines('durable', lines.slice(i, i + 100));
    expect(await listLocalObjects(dataDir.path, 'durable')).toEqual([]);
    client.destroy();
    await collector.kill();

    collector = await startCollector(dataDir.path);
    client = firehoseClient(collector.endpoint);
    await client.send(
      new UpdateDestinationCommand({
        DeliveryStreamName: 'durable',
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: 'destinationId-000000000001',
        ExtendedS3DestinationUpdate: { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
      }),
    );
    const objects = await waitForObjects('durable', lines.join('').length);
    expect(objects.map((object) => object.body.toString()).join('')).toBe(lines.join(''));
    // Objects written after the update carry the new version in their names.
    expect(objects[0]!.key).toMatch(/\/durable-2-/);
  });
});

function withFile(object: LocalObject, read: (path: string) => Buffer): Buffer {
  const path = join(dataDir.path, `decode-${process.pid}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, object.body);
  return read(path);
}

/** The snappy framing format (framing_format.txt): stream identifier, then typed chunks. */
function decodeSnappyFramed(body: Buffer): Buffer {
  expect(body.subarray(0, 10).toString('latin1')).toBe('\xff\x06\x00\x00sNaPpY');
  const parts: Buffer[] = [];
  for (let offset = 10; offset < body.length; ) {
    const type = body[offset]!;
    const length = body.readUIntLE(offset + 1, 3);
    const chunk = body.subarray(offset + 8, offset + 4 + length);
    parts.push(type === 0 ? Buffer.from(snappy.uncompress(new Uint8Array(chunk))) : chunk);
    offset += 4 + length;
  }
  return Buffer.concat(parts);
}

/** Hadoop's BlockCompressorStream: u32 BE raw length, then u32 BE compressed length + snappy block. */
function decodeHadoopSnappy(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.length; ) {
    const compressedLength = body.readUInt32BE(offset + 4);
    parts.push(Buffer.from(snappy.uncompress(new Uint8Array(body.subarray(offset + 8, offset + 8 + compressedLength)))));
    offset += 8 + compressedLength;
  }
  return Buffer.concat(parts);
}
