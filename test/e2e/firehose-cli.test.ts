/**
 * The Debian AWS CLI v2's `firehose` commands (botocore, HTTP/1.1) against the real collector:
 * create, describe, list, put-record and put-record-batch into a local bucket, update-destination,
 * delete, and an AWS error as the CLI reports it.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, awsCliJson, awsCliPresent as cliPresent, runAwsCli, type AwsCliResult } from '../helpers/aws-cli.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { listLocalObjects } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;

// Debian's CLI 2.9 carries a Firehose model from before 0 s buffering (IntervalInSeconds min 60);
// its client-side parameter validation is off (the config file written below) so it sends what
// today's model allows.
const target = () => ({ endpoint: collector.endpoint, home: dataDir.path, configFile: `${dataDir.path}/aws-config` });

function runCli(args: string[]): Promise<AwsCliResult> {
  return runAwsCli('firehose', args, target());
}

async function cli<T = Record<string, any>>(...args: string[]): Promise<T> {
  return awsCliJson<T>('firehose', args, target());
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

    // Object order is not observable (see listLocalObjects): the batch waits for the first
    // record's object, and the batch's objects are compared as a multiset.
    const { gunzipSync } = await import('node:zlib');
    const readBucket = async () => (await listLocalObjects(dataDir.path, 'cli-bucket')).map((object) => ({ key: object.key, text: gunzipSync(object.body).toString() }));
    const seen = async () => JSON.stringify(await readBucket());
    const single = await cli('put-record', '--delivery-stream-name', 'cli-hose', '--cli-binary-format', 'raw-in-base64-out', '--record', 'Data=first');
    expect(typeof single.RecordId).toBe('string');
    const first = await pollUntil('the first record in cli-bucket', async () => {
      const objects = await readBucket();
      return objects.length > 0 ? objects : undefined;
    }, { describe: seen });
    expect(first.map((object) => object.text)).toEqual(['first']);
    const batch = await cli(
      'put-record-batch', '--delivery-stream-name', 'cli-hose', '--cli-binary-format', 'raw-in-base64-out',
      '--records', JSON.stringify([{ Data: 'second' }, { Data: 'third' }]),
    );
    expect(batch.FailedPutCount).toBe(0);
    const later = await pollUntil('the batch in cli-bucket', async () => {
      const objects = (await readBucket()).filter((object) => object.key !== first[0]!.key);
      return objects.map((object) => object.text).join('').length >= 'secondthird'.length ? objects : undefined;
    }, { describe: seen });
    // One object holds 'secondthird' in order; two hold 'second' and 'third' in either order.
    expect(later.map((object) => object.text).sort().join('')).toBe('secondthird');

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
