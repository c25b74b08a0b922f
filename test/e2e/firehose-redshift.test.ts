/**
 * The Redshift destination against a real PostgreSQL (a private server started for this test):
 * batches staged as objects in the intermediate bucket and loaded with COPY into the table,
 * Redshift CopyOptions translated, a failing load retried and then written to the error output,
 * and the password never described.
 */
import { CreateDeliveryStreamCommand, DescribeDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { postgresBinDir, startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const available = postgresBinDir() !== undefined;

let dataDir: { path: string; remove: () => Promise<void> };
let postgres: PostgresServer;
let collector: CollectorProcess;
let client: FirehoseClient;

async function createStream(name: string, table: string, copyOptions: string, retrySeconds?: number): Promise<void> {
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      RedshiftDestinationConfiguration: {
        RoleARN: 'arn:aws:iam::000000000000:role/r',
        ClusterJDBCURL: `jdbc:postgresql://127.0.0.1:${postgres.port}/${postgres.database}`,
        Username: postgres.user,
        Password: 'not-needed-with-trust',
        CopyCommand: { DataTableName: table, DataTableColumns: 'device, reading', CopyOptions: copyOptions },
        ...(retrySeconds !== undefined ? { RetryOptions: { DurationInSeconds: retrySeconds } } : {}),
        S3Configuration: {
          BucketARN: `arn:aws:s3:::${name}-staging`,
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          CompressionFormat: 'GZIP',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
        },
      },
    }),
  );
  await waitForDeliveryStreamStatus(client, name);
}

describe.skipIf(!available)(available ? 'Redshift destination into PostgreSQL' : 'Redshift destination — SKIPPED: PostgreSQL is not installed (.ci/run installs it)', () => {
  beforeAll(async () => {
    dataDir = await makeTempDir('riffle-e2e-firehose-redshift-');
    postgres = await startPostgres();
    await postgres.query('CREATE TABLE readings (device text NOT NULL, reading integer NOT NULL, loaded_at timestamptz DEFAULT now())');
    collector = await startCollector(dataDir.path);
    client = firehoseClient(collector.endpoint);
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await collector?.stop();
    await postgres?.stop();
    await dataDir?.remove();
  });

  it('stages each batch in the intermediate bucket and COPYs it into the table', async () => {
    await createStream('to-postgres', 'readings', "CSV DELIMITER ',' NULL AS '' GZIP");
    const rows = ['pump-1,10\n', 'pump-2,20\n', 'pump-1,30\n'];
    const result = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'to-postgres', Records: rows.map((row) => ({ Data: Buffer.from(row) })) }));
    expect(result.FailedPutCount).toBe(0);
    const loaded = await pollUntil('three rows in readings', async () => {
      const { rows: found } = await postgres.query('SELECT device, reading FROM readings ORDER BY reading');
      return found.length >= 3 ? found : undefined;
    });
    expect(loaded).toEqual([{ device: 'pump-1', reading: 10 }, { device: 'pump-2', reading: 20 }, { device: 'pump-1', reading: 30 }]);
    const staged = await listLocalObjects(dataDir.path, 'to-postgres-staging');
    expect(staged.map((object) => gunzipSync(object.body).toString()).join('')).toBe(rows.join(''));
    expect(staged[0]!.key).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}\/to-postgres-1-.*\.gz$/);
  });

  it('retries a failing COPY, then writes the batch to the error output as redshift-failed', async () => {
    await createStream('bad-table', 'missing_table', 'CSV', 0);
    await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'bad-table', Records: [{ Data: Buffer.from('x,1\n') }] }));
    const failed = await pollUntil('an error object', async () => {
      const objects = await listLocalObjects(dataDir.path, 'bad-table-staging');
      return objects.find((object) => object.key.startsWith('redshift-failed/'));
    });
    const record = JSON.parse(failed.body.toString().trim()) as Record<string, string>;
    expect(record.errorCode).toBe('Redshift.CopyFailed');
    expect(record.errorMessage).toContain('missing_table');
    expect(Buffer.from(record.rawData!, 'base64').toString()).toBe('x,1\n');
  });

  it('refuses CopyOptions PostgreSQL cannot follow, and never describes the password', async () => {
    const refused = await client
      .send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'fixedwidth',
          RedshiftDestinationConfiguration: {
            RoleARN: 'arn:aws:iam::000000000000:role/r',
            ClusterJDBCURL: `jdbc:postgresql://127.0.0.1:${postgres.port}/postgres`,
            CopyCommand: { DataTableName: 'readings', CopyOptions: "FIXEDWIDTH 'device:6,reading:4'" },
            S3Configuration: { BucketARN: 'arn:aws:s3:::x', RoleARN: 'arn:aws:iam::000000000000:role/r' },
          },
        }),
      )
      .catch((error: Error) => error);
    expect((refused as Error).name).toBe('InvalidArgumentException');
    const { DeliveryStreamDescription } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'to-postgres' }));
    const description = DeliveryStreamDescription!.Destinations![0]!.RedshiftDestinationDescription!;
    expect(description).toMatchObject({ Username: 'riffle', CopyCommand: { DataTableName: 'readings' }, RetryOptions: { DurationInSeconds: 3600 } });
    expect(JSON.stringify(description)).not.toContain('not-needed-with-trust');
    expect(description.S3DestinationDescription).toMatchObject({ BucketARN: 'arn:aws:s3:::to-postgres-staging', CompressionFormat: 'GZIP' });
  });
});
