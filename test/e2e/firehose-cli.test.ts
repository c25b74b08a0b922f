/**
 * The Debian AWS CLI v2's `firehose` commands (botocore, HTTP/1.1) against the real collector:
 * create, describe, list, put-record and put-record-batch into a local bucket, update-destination,
 * delete, and an AWS error as the CLI reports it.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { listLocalObjects } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const awsCli = '/usr/bin/aws';
const cliPresent = existsSync(awsCli);

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;

function runCli(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      awsCli,
      ['firehose', ...args, '--endpoint-url', collector.endpoint, '--output', 'json'],
      {
        timeout: 20_000,
        env: {
          PATH: process.env.PATH,
          HOME: dataDir.path,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_PAGER: '',
          // Debian's CLI 2.9 carries a Firehose model from before 0 s buffering (IntervalInSeconds
          // min 60); its client-side parameter validation is off so it sends what today's model allows.
          AWS_CONFIG_FILE: `${dataDir.path}/aws-config`,
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ exitCode: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

async function cli<T = Record<string, any>>(...args: string[]): Promise<T> {
  const result = await runCli(args);
  if (result.exitCode !== 0) throw new Error(`aws firehose ${args.join(' ')} exited with ${result.exitCode}: ${result.stderr}`);
  return (result.stdout.trim() === '' ? undefined : JSON.parse(result.stdout)) as T;
}

describe.skipIf(!cliPresent)(cliPresent ? 'AWS CLI v2 firehose commands' : `AWS CLI v2 firehose commands — SKIPPED: ${awsCli} is missing`, () => {
  beforeAll(async () => {
    dataDir = await makeTempDir('riffle-e2e-firehose-cli-');
    writeFileSync(`${dataDir.path}/aws-config`, '[default]\nparameter_validation = false\n');
    collector = await startCollector(dataDir.path);
  });

  afterAll(async () => {
    await collector?.stop();
    await dataDir?.remove();
  });

  it('runs a delivery stream from creation to delivered objects to deletion', async () => {
    const created = await cli(
      'create-delivery-stream',
      '--delivery-stream-name', 'cli-hose',
      '--extended-s3-destination-configuration',
      JSON.stringify({ BucketARN: 'arn:aws:s3:::cli-bucket', RoleARN: 'arn:aws:iam::000000000000:role/r', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 }, CompressionFormat: 'GZIP' }),
    );
    expect(created.DeliveryStreamARN).toBe('arn:aws:firehose:us-east-1:000000000000:deliverystream/cli-hose');
    await pollUntil('cli-hose ACTIVE', async () => (await cli('describe-delivery-stream', '--delivery-stream-name', 'cli-hose')).DeliveryStreamDescription.DeliveryStreamStatus === 'ACTIVE');
    expect((await cli('list-delivery-streams')).DeliveryStreamNames).toEqual(['cli-hose']);

    const single = await cli('put-record', '--delivery-stream-name', 'cli-hose', '--cli-binary-format', 'raw-in-base64-out', '--record', 'Data=first');
    expect(typeof single.RecordId).toBe('string');
    const batch = await cli(
      'put-record-batch', '--delivery-stream-name', 'cli-hose', '--cli-binary-format', 'raw-in-base64-out',
      '--records', JSON.stringify([{ Data: 'second' }, { Data: 'third' }]),
    );
    expect(batch.FailedPutCount).toBe(0);
    const { gunzipSync } = await import('node:zlib');
    const readBucket = async () => (await listLocalObjects(dataDir.path, 'cli-bucket')).map((object) => gunzipSync(object.body).toString()).join('');
    const text = await pollUntil('three records in cli-bucket', async () => ((await readBucket()).includes('third') ? readBucket() : undefined), {
      describe: readBucket,
    });
    expect(text).toBe('firstsecondthird');

    await cli(
      'update-destination', '--delivery-stream-name', 'cli-hose', '--current-delivery-stream-version-id', '1',
      '--destination-id', 'destinationId-000000000001', '--extended-s3-destination-update', JSON.stringify({ Prefix: 'v2/' }),
    );
    const described = await cli('describe-delivery-stream', '--delivery-stream-name', 'cli-hose');
    expect(described.DeliveryStreamDescription.VersionId).toBe('2');
    expect(described.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription).toMatchObject({ Prefix: 'v2/', CompressionFormat: 'GZIP' });

    await cli('delete-delivery-stream', '--delivery-stream-name', 'cli-hose');
    const missing = await pollUntil('cli-hose gone', async () => {
      const result = await runCli(['describe-delivery-stream', '--delivery-stream-name', 'cli-hose']);
      return result.exitCode !== 0 ? result : undefined;
    });
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toContain('ResourceNotFoundException');
  });
});
