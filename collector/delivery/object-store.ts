/**
 * Where S3-bound objects go. A bucket ARN `arn:aws:s3:::NAME` is the folder
 * `<data-dir>/s3/NAME/` unless an S3 endpoint is configured (then the real S3 API through
 * @aws-sdk/client-s3); naming, compression and error handling above this are the same either way.
 *
 * Local folder invariants: an object appears under its final key only complete and fsync'd
 * (written to a dot-prefixed temp file in the same directory, fsync'd, renamed, directory
 * fsync'd), so a reader or a crash never sees half an object; a key cannot leave the bucket
 * folder (no `..` segments, no absolute keys).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { replaceFileDurably } from '../../shared/durable-file.js';

export interface ObjectStore {
  /** Resolves once the object is durably stored under `key`. */
  putObject(bucket: string, key: string, body: Buffer): Promise<void>;
}

const BUCKET_ARN = /^arn:aws[\w-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;

/** The bucket name of `arn:aws:s3:::NAME`, or undefined for a malformed ARN. */
export function bucketOf(bucketArn: string): string | undefined {
  return BUCKET_ARN.exec(bucketArn)?.[1];
}

export class LocalFolderObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  async putObject(bucket: string, key: string, body: Buffer): Promise<void> {
    const bucketDir = resolve(this.root, bucket);
    const path = resolve(bucketDir, key);
    if (key.startsWith('/') || key.split('/').includes('..') || !path.startsWith(bucketDir + sep)) {
      throw new Error(`object key ${JSON.stringify(key)} leaves the bucket folder`);
    }
    const dir = dirname(path);
    await fsp.mkdir(dir, { recursive: true });
    // A dot-prefixed temporary name: listings skip it, as they skip S3's in-flight uploads.
    await replaceFileDurably(path, body, { temporaryPath: join(dir, `.${randomUUID()}.tmp`) });
  }
}

/** Where the real S3 API is (an S3-compatible store: AWS, MinIO, s3rver, …) — the collector's `s3` config. */
export interface S3ApiSettings {
  endpoint: string;
  region: string;
  /** Absent: the SDK's default credential chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), which most local S3 servers need. */
  forcePathStyle: boolean;
}

/** Objects through the S3 API: an object is stored once PutObject answered 200. */
export class S3ApiObjectStore implements ObjectStore {
  private readonly client: S3Client;

  constructor(settings: S3ApiSettings) {
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
  }

  async putObject(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  close(): void {
    this.client.destroy();
  }
}
