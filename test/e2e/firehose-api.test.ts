/**
 * The Firehose control plane through @aws-sdk/client-firehose against the real collector
 * process: create, describe, list, update (merge, version ids, ConcurrentModificationException),
 * tags, encryption state, delete, and AWS's errors.
 */
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  FirehoseServiceException,
  ListDeliveryStreamsCommand,
  ListTagsForDeliveryStreamCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  StartDeliveryStreamEncryptionCommand,
  StopDeliveryStreamEncryptionCommand,
  TagDeliveryStreamCommand,
  UntagDeliveryStreamCommand,
  UpdateDestinationCommand,
} from '@aws-sdk/client-firehose';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: FirehoseClient;

const s3Config = { BucketARN: 'arn:aws:s3:::api-bucket', RoleARN: 'arn:aws:iam::000000000000:role/firehose' };

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FirehoseServiceException) return { name: error.name, message: error.message, status: error.$metadata.httpStatusCode };
    throw error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  dataDir = await makeTempDir();
  collector = await startCollector(dataDir.path);
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  await dataDir?.remove();
});

describe('Firehose control plane', () => {
  it('creates a delivery stream and describes it with AWS defaults', async () => {
    const created = await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'orders',
        ExtendedS3DestinationConfiguration: { ...s3Config, Prefix: 'orders/' },
        Tags: [{ Key: 'team', Value: 'ops' }],
      }),
    );
    expect(created.DeliveryStreamARN).toBe('arn:aws:firehose:us-east-1:000000000000:deliverystream/orders');
    await waitForDeliveryStreamStatus(client, 'orders');
    const { DeliveryStreamDescription: description } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'orders' }));
    expect(description).toMatchObject({
      DeliveryStreamName: 'orders',
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
      HasMoreDestinations: false,
    });
    expect(description!.CreateTimestamp).toBeInstanceOf(Date);
    const destination = description!.Destinations![0]!;
    expect(destination.DestinationId).toBe('destinationId-000000000001');
    expect(destination.ExtendedS3DestinationDescription).toMatchObject({
      ...s3Config,
      Prefix: 'orders/',
      BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 300 },
      CompressionFormat: 'UNCOMPRESSED',
      EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
      S3BackupMode: 'Disabled',
    });
    expect(destination.S3DestinationDescription).toMatchObject({ ...s3Config, Prefix: 'orders/', CompressionFormat: 'UNCOMPRESSED' });
  });

  it('refuses a second stream of the same name, and names a missing one', async () => {
    const duplicate = await errorOf(client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'orders', ExtendedS3DestinationConfiguration: s3Config })));
    expect(duplicate.name).toBe('ResourceInUseException');
    const missing = await errorOf(client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'nope' })));
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    expect(missing.message).toContain('nope');
  });

  it('validates requests against the Firehose model and its rules', async () => {
    const invalid = await errorOf(client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'bad name!', ExtendedS3DestinationConfiguration: s3Config })));
    expect(invalid.name).toBe('ValidationException');
    expect(invalid.message).toContain("at 'deliveryStreamName'");
    const interval = await errorOf(
      client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'b', ExtendedS3DestinationConfiguration: { ...s3Config, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 901 } } })),
    );
    expect(interval.name).toBe('ValidationException');
    const prefix = await errorOf(
      client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'c', ExtendedS3DestinationConfiguration: { ...s3Config, Prefix: 'y=!{timestamp:yyyy}/' } })),
    );
    expect(prefix.name).toBe('InvalidArgumentException');
    const none = await errorOf(client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'd' })));
    expect(none.name).toBe('InvalidArgumentException');
    const bucket = await errorOf(
      client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'e', ExtendedS3DestinationConfiguration: { ...s3Config, BucketARN: 'arn:aws:s3:::' } })),
    );
    expect(['InvalidArgumentException', 'ValidationException']).toContain(bucket.name);
  });

  it('lists delivery streams in pages', async () => {
    for (const name of ['p-1', 'p-2', 'p-3']) {
      await client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, ExtendedS3DestinationConfiguration: s3Config }));
    }
    const first = await client.send(new ListDeliveryStreamsCommand({ Limit: 2 }));
    expect(first).toMatchObject({ DeliveryStreamNames: ['orders', 'p-1'], HasMoreDeliveryStreams: true });
    const rest = await client.send(new ListDeliveryStreamsCommand({ ExclusiveStartDeliveryStreamName: 'p-1' }));
    expect(rest).toMatchObject({ DeliveryStreamNames: ['p-2', 'p-3'], HasMoreDeliveryStreams: false });
    const kinesisSourced = await client.send(new ListDeliveryStreamsCommand({ DeliveryStreamType: 'KinesisStreamAsSource' }));
    expect(kinesisSourced.DeliveryStreamNames).toEqual([]);
  });

  it('merges destination updates, bumps the version and refuses a stale one', async () => {
    await client.send(
      new UpdateDestinationCommand({
        DeliveryStreamName: 'orders',
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: 'destinationId-000000000001',
        ExtendedS3DestinationUpdate: { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 }, CompressionFormat: 'GZIP' },
      }),
    );
    const { DeliveryStreamDescription: description } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'orders' }));
    expect(description!.VersionId).toBe('2');
    expect(description!.LastUpdateTimestamp).toBeInstanceOf(Date);
    expect(description!.Destinations![0]!.ExtendedS3DestinationDescription).toMatchObject({
      ...s3Config,
      Prefix: 'orders/',
      BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
      CompressionFormat: 'GZIP',
    });
    const stale = await errorOf(
      client.send(
        new UpdateDestinationCommand({
          DeliveryStreamName: 'orders',
          CurrentDeliveryStreamVersionId: '1',
          DestinationId: 'destinationId-000000000001',
          ExtendedS3DestinationUpdate: { Prefix: 'x/' },
        }),
      ),
    );
    expect(stale.name).toBe('ConcurrentModificationException');
  });

  it('tags, lists tags in pages and untags', async () => {
    await client.send(new TagDeliveryStreamCommand({ DeliveryStreamName: 'orders', Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'data' }] }));
    const page = await client.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'orders', Limit: 1 }));
    expect(page).toMatchObject({ Tags: [{ Key: 'env', Value: 'prod' }], HasMoreTags: true });
    await client.send(new UntagDeliveryStreamCommand({ DeliveryStreamName: 'orders', TagKeys: ['env'] }));
    const all = await client.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'orders' }));
    expect(all).toMatchObject({ Tags: [{ Key: 'team', Value: 'data' }], HasMoreTags: false });
    const tooMany = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const limit = await errorOf(client.send(new TagDeliveryStreamCommand({ DeliveryStreamName: 'orders', Tags: tooMany })));
    expect(limit.name).toBe('LimitExceededException');
  });

  it('records server-side encryption state and reports it on puts', async () => {
    await client.send(new StartDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'orders' }));
    let { DeliveryStreamDescription: description } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'orders' }));
    expect(description!.DeliveryStreamEncryptionConfiguration).toMatchObject({ Status: 'ENABLED', KeyType: 'AWS_OWNED_CMK' });
    const put = await client.send(new PutRecordCommand({ DeliveryStreamName: 'orders', Record: { Data: Buffer.from('x') } }));
    expect(put.Encrypted).toBe(true);
    await client.send(new StopDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'orders' }));
    ({ DeliveryStreamDescription: description } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'orders' })));
    expect(description!.DeliveryStreamEncryptionConfiguration!.Status).toBe('DISABLED');
  });

  it('enforces PutRecordBatch limits', async () => {
    const tooLarge = Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1000 * 1024) }));
    expect((await errorOf(client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'orders', Records: tooLarge })))).name).toBe('InvalidArgumentException');
    const tooMany = Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') }));
    expect((await errorOf(client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'orders', Records: tooMany })))).name).toBe('ValidationException');
    const recordTooLarge = [{ Data: Buffer.alloc(1000 * 1024 + 1) }];
    expect((await errorOf(client.send(new PutRecordCommand({ DeliveryStreamName: 'orders', Record: recordTooLarge[0]! })))).name).toBe('ValidationException');
    const batch = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'orders', Records: [{ Data: Buffer.from('a') }, { Data: Buffer.from('b') }] }));
    expect(batch.FailedPutCount).toBe(0);
    expect(batch.RequestResponses!.map((entry) => entry.RecordId)).toHaveLength(2);
    expect(new Set(batch.RequestResponses!.map((entry) => entry.RecordId)).size).toBe(2);
  });

  it('deletes a delivery stream', async () => {
    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'p-3', AllowForceDelete: true }));
    await pollUntil('p-3 to be gone', async () => {
      const { DeliveryStreamNames } = await client.send(new ListDeliveryStreamsCommand({}));
      return !DeliveryStreamNames!.includes('p-3');
    });
    expect((await errorOf(client.send(new PutRecordCommand({ DeliveryStreamName: 'p-3', Record: { Data: Buffer.from('x') } })))).name).toBe('ResourceNotFoundException');
  });
});

describe('Firehose access policies', () => {
  const adminKey = { accessKeyId: 'AKIARIFFLEADMIN00001', secretAccessKey: 'admin-secret' };
  const deviceKey = { accessKeyId: 'AKIARIFFLEDEVICE0001', secretAccessKey: 'device-secret' };
  let secured: CollectorProcess;
  let securedDir: { path: string; remove: () => Promise<void> };
  let admin: FirehoseClient;
  let device: FirehoseClient;

  beforeAll(async () => {
    securedDir = await makeTempDir('riffle-e2e-firehose-auth-');
    const configFile = join(securedDir.path, 'collector.json');
    await writeFile(
      configFile,
      JSON.stringify({
        accessKeys: [
          { ...adminKey, name: 'admin' },
          { ...deviceKey, name: 'device', policy: { actions: ['firehose:PutRecord*'], resources: ['arn:aws:firehose:*:*:deliverystream/device-*'] } },
        ],
      }),
    );
    secured = await startCollector(join(securedDir.path, 'data'), ['--config', configFile]);
    admin = firehoseClient(secured.endpoint, { credentials: adminKey });
    device = firehoseClient(secured.endpoint, { credentials: deviceKey, maxAttempts: 1 });
    for (const name of ['device-1', 'other']) {
      await admin.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, ExtendedS3DestinationConfiguration: s3Config }));
      await waitForDeliveryStreamStatus(admin, name);
    }
  });

  afterAll(async () => {
    admin?.destroy();
    device?.destroy();
    await secured?.stop();
    await securedDir?.remove();
  });

  it('allows the actions and delivery streams a policy lists as firehose:<Op> on the stream ARN, and nothing else', async () => {
    const put = await device.send(new PutRecordCommand({ DeliveryStreamName: 'device-1', Record: { Data: Buffer.from('ok') } }));
    expect(put.RecordId).toBeTruthy();
    const batch = await device.send(new PutRecordBatchCommand({ DeliveryStreamName: 'device-1', Records: [{ Data: Buffer.from('ok') }] }));
    expect(batch.FailedPutCount).toBe(0);
    const otherStream = await errorOf(device.send(new PutRecordCommand({ DeliveryStreamName: 'other', Record: { Data: Buffer.from('x') } })));
    expect(otherStream.name).toBe('AccessDeniedException');
    expect(otherStream.message).toContain('firehose:PutRecord on resource: arn:aws:firehose:us-east-1:000000000000:deliverystream/other');
    const control = await errorOf(device.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'device-1' })));
    expect(control.name).toBe('AccessDeniedException');
    const list = await errorOf(device.send(new ListDeliveryStreamsCommand({})));
    expect(list.name).toBe('AccessDeniedException');
  });
});
