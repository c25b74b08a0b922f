/**
 * Where S3-bound objects go. A bucket ARN `arn:aws:s3:::NAME` is the folder
 * `<data-dir>/s3/NAME/` unless an S3 endpoint is configured (then the real S3 API); naming,
 * compression and error handling above this are the same either way.
 *
 * Local folder invariants: an object appears under its final key only complete and fsync'd
 * (written to a dot-prefixed temp file in the same directory, fsync'd, renamed, directory
 * fsync'd), so a reader or a crash never sees half an object; a key cannot leave the bucket
 * folder (no `..` segments, no absolute keys).
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

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
    const temp = join(dir, `.${randomUUID()}.tmp`);
    const handle = await fsp.open(temp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, path);
    const dirHandle = await fsp.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}
