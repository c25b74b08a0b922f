/**
 * Which file is which. A path says little (rotation renames, copies and truncates files), and an
 * inode alone is not enough either: a deleted file's inode number is reused by the next file
 * created, and copytruncate refills the same inode with new content. So a file is its device +
 * inode plus a fingerprint: a hash of its first bytes, up to FINGERPRINT_BYTES. A young file's
 * fingerprint covers what it has so far and grows with it until it covers the full length.
 *
 * Same inode, different fingerprint: the file was truncated and refilled, or the inode was
 * reused — new content. Other inode, same fingerprint: a copy (copytruncate's rotated file).
 * A running source keeps the first bytes themselves (TrackedFile.head) and compares bytes; the
 * checkpoint file keeps their hash.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** How many leading bytes identify a file's content: log lines start with timestamps, so 1 KiB tells files apart. */
export const FINGERPRINT_BYTES = 1024;

export interface FileIdentity {
  /** Device and inode as decimal strings: inode numbers can exceed 2^53 (XFS, btrfs). */
  dev: string;
  ino: string;
  /** Hex hash of the first `fingerprintBytes` bytes. */
  fingerprint: string;
  fingerprintBytes: number;
}

/** `dev:ino`, the key under which an open or listed file is found. */
export function inodeKey(stats: { dev: bigint | string; ino: bigint | string }): string {
  return `${stats.dev}:${stats.ino}`;
}

export function fingerprintOf(bytes: Buffer): string {
  // 128 bits of SHA-256: collisions between a device's log files are not a concern.
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/**
 * Reads up to `length` bytes from `position` in one read: fewer at end of file. One read only,
 * on purpose: a second one to fill up could see the file truncated and refilled in between and
 * stitch two contents together (a head whose fingerprint matches no file).
 */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
}

/** The first FINGERPRINT_BYTES bytes of an open file (fewer if it is shorter). */
export function readHead(handle: FileHandle): Promise<Buffer> {
  return readAt(handle, 0, FINGERPRINT_BYTES);
}

/**
 * Whether a file whose first bytes are now `current` still holds the content whose first bytes
 * were `known`, and — when a `chunk` was read from it at `chunkOffset` just before — whether
 * that chunk belongs to the same content: where the chunk overlaps `current` they must agree.
 * (A chunk read before a truncate-and-refill and a head read after it would not.)
 */
export function continuesHead(current: Buffer, known: Buffer, chunk?: Buffer, chunkOffset = 0): boolean {
  if (current.length < known.length || !current.subarray(0, known.length).equals(known)) return false;
  if (!chunk || chunkOffset >= current.length) return true;
  const overlap = Math.min(chunk.length, current.length - chunkOffset);
  return chunk.subarray(0, overlap).equals(current.subarray(chunkOffset, chunkOffset + overlap));
}

/** Whether two files' first bytes agree over the shorter of them (and it is not empty). */
export function sameStart(a: Buffer, b: Buffer): boolean {
  const length = Math.min(a.length, b.length);
  return length > 0 && a.subarray(0, length).equals(b.subarray(0, length));
}

/** Whether `head` (a file's first bytes) begins with the content `identity` fingerprinted. */
export function startsWithFingerprint(head: Buffer, identity: Pick<FileIdentity, 'fingerprint' | 'fingerprintBytes'>): boolean {
  return head.length >= identity.fingerprintBytes && fingerprintOf(head.subarray(0, identity.fingerprintBytes)) === identity.fingerprint;
}

/**
 * Names of compressed rotated files. The Kinesis Agent skips .gz, .bz2 and .zip
 * (SourceFile.validateFile); logrotate's `compresscmd` also makes .xz and .zst.
 */
const compressedSuffixes = ['.gz', '.bz2', '.zip', '.xz', '.zst'];

export function hasCompressedName(name: string): boolean {
  const lower = name.toLowerCase();
  return compressedSuffixes.some((suffix) => lower.endsWith(suffix));
}

/** Magic numbers of the same formats, for compressed files whose names do not say so. */
const compressedMagic = [
  Buffer.from([0x1f, 0x8b]), // gzip (RFC 1952)
  Buffer.from('BZh', 'latin1'), // bzip2
  Buffer.from([0x50, 0x4b, 0x03, 0x04]), // zip local file header
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), // xz
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), // zstd frame (RFC 8878)
];

export function hasCompressedMagic(head: Buffer): boolean {
  return compressedMagic.some((magic) => head.length >= magic.length && head.subarray(0, magic.length).equals(magic));
}
