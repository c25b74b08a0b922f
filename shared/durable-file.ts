/**
 * Replacing a small file so that a power cut leaves the old content or the new, whole: the data
 * goes to a temporary file in the same directory, which is fsynced, renamed over the target,
 * and then the directory is fsynced too — the rename is durable only once the directory is.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ReplaceFileOptions {
  /** File mode of a newly created file. Default 0o666 (less the umask). */
  mode?: number;
  /** Where the data is written first (same directory as `path`). Default `<path>.tmp`. */
  temporaryPath?: string;
}

export async function replaceFileDurably(path: string, data: string | Buffer, options: ReplaceFileOptions = {}): Promise<void> {
  const temporary = options.temporaryPath ?? `${path}.tmp`;
  const handle = await open(temporary, 'w', options.mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
