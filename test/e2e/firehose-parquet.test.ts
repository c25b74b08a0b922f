/**
 * DataFormatConversion to Parquet through the real collector: JSON records become one Parquet
 * file per object, typed by the table schema in `<data-dir>/glue/<db>/<table>.json` (where Glue
 * would hold it), and records that do not fit go to format-conversion-failed. The objects are read
 * back with the Parquet reader of @dsnp/parquetjs (no independent Parquet reader is installed here).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import parquet from '@dsnp/parquetjs';
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: FirehoseClient;

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-parquet-');
  mkdirSync(join(dataDir.path, 'glue', 'plant'), { recursive: true });
  writeFileSync(
    join(dataDir.path, 'glue', 'plant', 'readings.json'),
    JSON.stringify({ Columns: [{ Name: 'device', Type: 'string' }, { Name: 'reading', Type: 'bigint' }, { Name: 'ok', Type: 'boolean' }, { Name: 'at', Type: 'timestamp' }] }),
  );
  collector = await startCollector(dataDir.path);
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  await dataDir?.remove();
});

describe('DataFormatConversion to Parquet', () => {
  it('writes typed Parquet objects and sends unconvertible records to format-conversion-failed', async () => {
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'to-parquet',
        ExtendedS3DestinationConfiguration: {
          BucketARN: 'arn:aws:s3:::lake',
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 0 },
          DataFormatConversionConfiguration: {
            Enabled: true,
            SchemaConfiguration: { DatabaseName: 'plant', TableName: 'readings', RoleARN: 'arn:aws:iam::000000000000:role/r' },
            InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
            OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
          },
        },
      }),
    );
    await waitForDeliveryStreamStatus(client, 'to-parquet');
    const lines = ['{"device":"p1","reading":10,"ok":true,"at":"2026-05-17T10:00:00Z"}', '{"Device":"p2","reading":"20"}', '{"device":"p3","reading":"lots"}', 'not json'];
    await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'to-parquet', Records: lines.map((line) => ({ Data: Buffer.from(line) })) }));
    const objects = await pollUntil('a parquet object and an error object', async () => {
      const all = await listLocalObjects(dataDir.path, 'lake');
      return all.some((object) => object.key.endsWith('.parquet')) && all.some((object) => object.key.startsWith('format-conversion-failed/')) ? all : undefined;
    });
    const data = objects.find((object) => object.key.endsWith('.parquet'))!;
    expect(data.key).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}\/to-parquet-1-.*\.parquet$/);
    const reader = await parquet.ParquetReader.openBuffer(data.body);
    const cursor = reader.getCursor();
    const rows: unknown[] = [];
    for (let row = await cursor.next(); row; row = await cursor.next()) rows.push(row);
    expect(rows).toEqual([
      { device: 'p1', reading: 10n, ok: true, at: new Date('2026-05-17T10:00:00Z') },
      { device: 'p2', reading: 20n, ok: null, at: null },
    ]);
    const failures = objects.filter((object) => object.key.startsWith('format-conversion-failed/')).flatMap((object) => object.body.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>));
    expect(failures.map((failure) => Buffer.from(failure.rawData!, 'base64').toString())).toEqual(['{"device":"p3","reading":"lots"}', 'not json']);
    expect(failures[0]!.errorCode).toBe('DataFormatConversion.MalformedData');
  });
});
