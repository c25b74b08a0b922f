/**
 * The AWS SDK v3 Firehose client pointed at a collector, a wait for a delivery stream's status,
 * and reading the local buckets (`<data-dir>/s3/<bucket>/`) the S3 destinations write.
 */
import { DescribeDeliveryStreamCommand, FirehoseClient, type DeliveryStreamStatus } from '@aws-sdk/client-firehose';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { existsSync, promises as fsp } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ClientOptions } from './kinesis-client.js';
import { pollUntil } from './poll.js';

export function firehoseClient(endpoint: string, options: ClientOptions = {}): FirehoseClient {
  return new FirehoseClient({
    endpoint,
    region: 'us-east-1',
    credentials: options.credentials ?? { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' },
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.transport === 'http1' ? { requestHandler: new NodeHttpHandler() } : {}),
  });
}

export async function waitForDeliveryStreamStatus(client: FirehoseClient, name: string, status: DeliveryStreamStatus = 'ACTIVE'): Promise<void> {
  await pollUntil(`delivery stream ${name} to be ${status}`, async () => {
    const { DeliveryStreamDescription } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
    return DeliveryStreamDescription?.DeliveryStreamStatus === status;
  });
}

export interface LocalObject {
  key: string;
  body: Buffer;
  writtenMs: number;
}

/**
 * Every object of a local bucket, keys with `/`; temp files (dot-prefixed) are not objects.
 * Sorted by mtime, which is only roughly write order: objects written within the file system's
 * timestamp granularity tie, and keys (the oldest record's arrival second, then a random UUID)
 * do not order them either. Callers must not rely on order across objects: check order within
 * one object, wait for one object before causing the next, or compare across objects as a
 * multiset.
 */
export async function listLocalObjects(dataDir: string, bucket: string): Promise<LocalObject[]> {
  const root = join(dataDir, 's3', bucket);
  if (!existsSync(root)) return [];
  const objects: LocalObject[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (!entry.name.startsWith('.')) {
        objects.push({ key: relative(root, path).split(sep).join('/'), body: await fsp.readFile(path), writtenMs: (await fsp.stat(path)).mtimeMs });
      }
    }
  };
  await walk(root);
  return objects.sort((a, b) => a.writtenMs - b.writtenMs);
}
