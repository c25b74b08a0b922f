/**
 * The disk spool: where a flow's batches wait while the collector is slow or unreachable.
 * Memory first, disk when behind; one spool per flow, one directory per spool, one process per
 * directory (nothing locks it).
 *
 * Invariants
 *  1. Durable before acknowledged: `append` resolves only after the fdatasync that covers its
 *     frame (and, for a new segment file, the fsync of the directory), so a caller may then
 *     acknowledge the batch's source (PUBACK an MQTT message) and a power cut loses nothing.
 *  2. Large sequential writes: appended frames wait in memory and go to disk in one write and
 *     one sync when `syncBytes` have gathered or `syncIntervalMillis` after the first of them —
 *     never a sync per record or per batch (SD cards wear with many small writes).
 *  3. FIFO: `peek` gives the oldest undelivered batch, the same one until `ack`; one batch is
 *     out at a time. Only durable frames are read.
 *  4. The size cap holds on disk: segment files plus frames waiting for their sync never exceed
 *     `maxSizeMB`. When full, `backpressure` makes `append` wait (and `isFull`, `onFullChange`,
 *     `whenRoom` tell sources to stop reading); `drop-oldest` deletes the oldest segment with all
 *     its undelivered batches, whole, and counts their records and bytes.
 *  5. Bounded memory, whatever the spool's size: one frame read at a time, frames waiting for
 *     their sync (about `syncBytes` plus one batch), and, for batches spooled by this process,
 *     their merged acknowledgements. Acknowledgements are never written: after a restart,
 *     sources replay (files from their checkpoints, MQTT by redelivery) and a batch from disk
 *     comes back with no acks.
 *  6. A segment file is deleted once every batch in it is delivered or dropped; the writer starts
 *     a new one when the current one reaches `segmentBytes`.
 *  7. Recovery on open: segments older than the cursor's are delivered and deleted; the newest
 *     segment is read through, checking every checksum, and everything after its last good frame
 *     — a frame torn by the power cut, or garbage the file system left — is cut off. A frame
 *     that fails a check anywhere else is skipped and counted (`corruptFrames`) when delivery
 *     reaches it; after a damaged header, reading resumes at the next valid header.
 *
 * On-disk format (integers little-endian)
 *   <directory>/<seq, 16 digits>.spool — a segment: frames back to back, oldest seq first.
 *     frame  = header (28 bytes) + payload
 *       0  u32  magic "RSF1" (format version 1)
 *       4  u32  payload bytes
 *       8  u32  encoded bytes (the payload decompressed)
 *      12  u32  record count
 *      16  u32  data bytes (the records' data, summed)
 *      20  u32  CRC-32 of the payload
 *      24  u32  CRC-32 of header bytes 0–23
 *     payload = zstd (shared/zstd.ts: one or more frames of ≤ 1 MiB input) of the encoded batch:
 *       u16 stream name length, stream name (UTF-8), u32 record count, then per record
 *       u8 flags (1: partition key, 2: explicit hash key), for each present u16 length + UTF-8,
 *       u32 data length, data.
 *   <directory>/cursor — where delivery stands, 24 bytes rewritten in place (within one sector):
 *       u32 magic "RSC1", u64 head segment seq, u64 offset of its first undelivered frame,
 *       u32 CRC-32 of bytes 0–19. Written at most once per `syncIntervalMillis` while delivery
 *       moves, so a crash redelivers at most that much; a missing or damaged cursor means
 *       delivery restarts at the oldest segment (duplicates, never loss).
 */
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../shared/log.js';
import { zstdCompress, zstdDecompress } from '../../shared/zstd.js';
import type { WhenSpoolFull } from '../config.js';
import type { Ack } from '../record.js';
import { systemSchedule, type Schedule } from '../../shared/clock.js';

const MiB = 1024 * 1024;
const DEFAULT_MAX_SIZE_MB = 64;
const DEFAULT_SYNC_INTERVAL_MILLIS = 1000;
const DEFAULT_SYNC_BYTES = MiB;
/** Segments of 1/16 of the cap: drop-oldest then drops at most that much at once. */
const SEGMENTS_PER_CAP = 16;
const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 4 * MiB;

const FRAME_MAGIC = 0x31465352; // "RSF1"
const FRAME_HEADER_BYTES = 28;
const FRAME_HEADER_CHECKED_BYTES = 24;
/**
 * A batch is at most 5 MiB of records (PutRecords) plus keys and lengths, so an encoded batch
 * above 16 MiB is refused at append, and a header claiming more is damage, not a frame.
 */
const MAX_ENCODED_BYTES = 16 * MiB;
/** zstd's worst case for incompressible input is a little over the input (ZSTD_compressBound). */
const MAX_PAYLOAD_BYTES = MAX_ENCODED_BYTES + MAX_ENCODED_BYTES / 128;
const MAX_LENGTH_PREFIXED_BYTES = 0xffff;
const HAS_PARTITION_KEY = 1;
const HAS_EXPLICIT_HASH_KEY = 2;

const CURSOR_FILE = 'cursor';
const CURSOR_MAGIC = 0x31435352; // "RSC1"
const CURSOR_BYTES = 24;
const SEGMENT_FILE = /^(\d{16})\.spool$/;
/** How much to read at a time when looking for the next valid header after damage. */
const RESYNC_CHUNK_BYTES = 64 * 1024;

export interface SpoolOptions {
  /** `spool.directory`: the spool's own directory (created if missing). */
  directory: string;
  /** `spool.maxSizeMB`: the most disk the spool uses, in MiB. Default 64. */
  maxSizeMB?: number;
  /** `spool.whenFull`: `backpressure` (default: `append` waits for room) or `drop-oldest`. */
  whenFull?: WhenSpoolFull;
  /** Longest an appended batch waits for the sync that makes it durable. Default 1000 ms. */
  syncIntervalMillis?: number;
  /** Write and sync as soon as this many bytes of frames wait. Default 1 MiB. */
  syncBytes?: number;
  /** Start a new segment file once the current one holds this many bytes. Default 1/16 of the cap, 64 KiB to 4 MiB. */
  segmentBytes?: number;
  /** Called with each batch `drop-oldest` drops, so its acknowledgements can be settled and it can be counted. */
  onDrop?(dropped: DroppedBatch): void;
  /** Called when the spool becomes full (`backpressure`: an append waits) and when it has room again. */
  onFullChange?(full: boolean): void;
  /** Arms the sync and cursor timers. Default: setTimeout. */
  schedule?: Schedule;
  log?: Logger;
}

/** What is stored of a record: `AgentRecord`s fit as they are (their acks are not stored). */
export interface SpoolRecord {
  data: Buffer;
  partitionKey?: string;
  explicitHashKey?: string;
}

export interface SpoolBatch {
  /** The flow's `kinesisStream` or `deliveryStream`. */
  streamName: string;
  records: readonly SpoolRecord[];
  /**
   * Kept in memory beside the frame and given back by `peek` while this process lives. Leave
   * out acknowledgements already settled (those whose target counts the spool as safe, settled
   * once `append` resolves).
   */
  acks: readonly Ack[];
}

export interface SpooledBatch {
  streamName: string;
  records: SpoolRecord[];
  /** The acks given to `append` in this process; empty for a batch recovered from disk. */
  acks: Ack[];
  /** The records' data bytes. */
  dataBytes: number;
}

export interface DroppedBatch {
  records: number;
  dataBytes: number;
  acks: Ack[];
}

export interface SpoolStats {
  /** Bytes on disk plus frames waiting for their sync; at most the cap. */
  bytes: number;
  segments: number;
  /** Batches admitted and waiting for the sync that makes them durable. */
  unsyncedBatches: number;
  appendedBatches: number;
  deliveredBatches: number;
  droppedBatches: number;
  droppedRecords: number;
  droppedBytes: number;
  /** Frames skipped because a checksum, the decompression or the decoding failed. */
  corruptFrames: number;
  /** Bytes cut from the newest segment's tail when the spool was opened. */
  truncatedBytes: number;
}

export type SpoolErrorCode =
  /** The spool was closed; the batch was not stored. */
  | 'SPOOL_CLOSED'
  /** The batch alone is larger than the spool may ever hold (the cap, or 16 MiB encoded). */
  | 'SPOOL_BATCH_TOO_LARGE'
  /** A key is too long to store (over 65535 bytes; Kinesis allows 256 characters). */
  | 'SPOOL_INVALID_BATCH'
  /** Writing or syncing failed (disk full, I/O error); the batch was not stored. */
  | 'SPOOL_WRITE_FAILED'
  /** A setting is out of range. */
  | 'INVALID_SPOOL_OPTION';

export class SpoolError extends Error {
  constructor(
    readonly code: SpoolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SpoolError';
  }
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes in the file. */
  size: number;
  /** Bytes known to be on stable storage; reading stops here. */
  durable: number;
  /** Merged acknowledgements of this process's batches in the segment, by frame offset. */
  acks: Map<number, Ack[]>;
}

interface PendingFrame {
  frame: Buffer;
  acks: Ack[];
  resolve(): void;
  reject(error: Error): void;
}

interface FrameHeader {
  payloadBytes: number;
  encodedBytes: number;
  recordCount: number;
  dataBytes: number;
  payloadCrc: number;
}

type FrameRead = { kind: 'frame'; header: FrameHeader; payload: Buffer; end: number } | { kind: 'corrupt'; resumeAt: number };

export class Spool {
  private readonly directory: string;
  private readonly maxBytes: number;
  private readonly whenFull: WhenSpoolFull;
  private readonly syncIntervalMillis: number;
  private readonly syncBytes: number;
  private readonly segmentBytes: number;
  private readonly schedule: Schedule;
  private readonly log: Logger;

  /** Oldest first; the last one is the writer's while `writer` is set. */
  private segments: Segment[] = [];
  private nextSeq = 0;
  /** Offset in `segments[0]` of the first undelivered frame. */
  private headOffset = 0;
  private writer: { segment: Segment; handle: FileHandle } | undefined;
  private headReader: { seq: number; handle: FileHandle } | undefined;
  private cursorHandle: FileHandle | undefined;
  private inFlight: { batch: SpooledBatch; end: number } | undefined;

  private pending: PendingFrame[] = [];
  private pendingBytes = 0;
  /** Segment bytes plus pending frames. */
  private bytes = 0;
  private cursorDirty = false;
  private cancelSyncTimer: (() => void) | undefined;
  private cancelCursorTimer: (() => void) | undefined;

  /** Appends are admitted one after another, in call order. */
  private admissions: Promise<void> = Promise.resolve();
  /** File work (write, read, delete, truncate) runs one job at a time. */
  private fileWork: Promise<unknown> = Promise.resolve();
  private full = false;
  /** Appends waiting for room: woken whenever bytes are freed, to check again. */
  private roomWaiters: Array<() => void> = [];
  /** `whenRoom` callers: woken when the spool stops being full. */
  private notFullWaiters: Array<() => void> = [];
  private closed = false;
  /** Set when, after close, an append found no room: later ones must not overtake it. */
  private admissionEnded = false;
  private readonly counters = {
    appendedBatches: 0,
    deliveredBatches: 0,
    droppedBatches: 0,
    droppedRecords: 0,
    droppedBytes: 0,
    corruptFrames: 0,
    truncatedBytes: 0,
  };

  private constructor(private readonly options: SpoolOptions) {
    this.directory = options.directory;
    const maxSizeMB = options.maxSizeMB ?? DEFAULT_MAX_SIZE_MB;
    if (!(maxSizeMB > 0) || !Number.isFinite(maxSizeMB)) throw new SpoolError('INVALID_SPOOL_OPTION', `maxSizeMB must be a positive number, got ${maxSizeMB}`);
    this.maxBytes = Math.floor(maxSizeMB * MiB);
    this.whenFull = options.whenFull ?? 'backpressure';
    this.syncIntervalMillis = positiveInteger('syncIntervalMillis', options.syncIntervalMillis ?? DEFAULT_SYNC_INTERVAL_MILLIS);
    this.syncBytes = positiveInteger('syncBytes', options.syncBytes ?? DEFAULT_SYNC_BYTES);
    this.segmentBytes = positiveInteger(
      'segmentBytes',
      options.segmentBytes ?? Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(this.maxBytes / SEGMENTS_PER_CAP))),
    );
    this.schedule = options.schedule ?? systemSchedule;
    this.log = options.log ?? (() => {});
  }

  /** Opens (creating, or recovering after a crash) the spool in `options.directory`. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.recover();
    return spool;
  }

  /** Whether an append is waiting for room (`backpressure`): sources should stop reading. */
  get isFull(): boolean {
    return this.full;
  }

  /** Resolves once the spool is not full (at once if it is not), or is closed. */
  whenRoom(): Promise<void> {
    if (!this.full || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.notFullWaiters.push(resolve));
  }

  stats(): SpoolStats {
    return { bytes: this.bytes, segments: this.segments.length, unsyncedBatches: this.pending.length, ...this.counters };
  }

  /**
   * Stores `batch`; resolves once it is durable. Rejects with SpoolError: `SPOOL_BATCH_TOO_LARGE`,
   * `SPOOL_INVALID_BATCH`, `SPOOL_WRITE_FAILED`, `SPOOL_CLOSED` (closed before it was stored).
   * With `backpressure`, waits while the spool is full; later appends wait behind it.
   */
  append(batch: SpoolBatch): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    let encoded: { bytes: Buffer; dataBytes: number };
    try {
      encoded = encodeBatch(batch);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // Compression starts now; admission keeps call order. A failure surfaces at admission.
    const payload = zstdCompress(encoded.bytes);
    payload.catch(ignore);
    const admitted = this.admissions.then(async () => this.admit(buildFrame(await payload, encoded.bytes.length, batch.records.length, encoded.dataBytes), [...batch.acks]));
    this.admissions = admitted.then(ignore, ignore);
    return admitted.then((admission) => admission.durable);
  }

  /** The oldest undelivered batch, the same one until it is acked; undefined when none is durable. */
  peek(): Promise<SpooledBatch | undefined> {
    if (this.closed) return Promise.reject(closedError());
    return this.serially(() => this.readHead());
  }

  /**
   * Marks the batch `peek` gave as delivered; deletes its segment file if that was the last
   * batch in it. Resolves false if the batch is no longer the head: `drop-oldest` dropped it
   * (its acks went to `onDrop`) or it was acked already.
   */
  ack(batch: SpooledBatch): Promise<boolean> {
    if (this.closed) return Promise.reject(closedError());
    return this.serially(async () => {
      if (this.inFlight?.batch !== batch) return false;
      const head = this.segments[0]!;
      head.acks.delete(this.headOffset);
      this.headOffset = this.inFlight.end;
      this.inFlight = undefined;
      this.counters.deliveredBatches += 1;
      this.moveCursor();
      if (this.headOffset >= head.durable) await this.releaseDeliveredHead();
      return true;
    });
  }

  /** Writes and syncs now the batches waiting for their sync (`unsyncedBatches`); not those still being compressed or waiting for room. */
  async sync(): Promise<void> {
    this.cancelSyncTimer?.();
    this.cancelSyncTimer = undefined;
    await this.serially(() => this.flushPending());
  }

  /** Stores what was appended before, records where delivery stands, and closes the files. Appends waiting for room reject with `SPOOL_CLOSED`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalRoom();
    this.cancelSyncTimer?.();
    this.cancelCursorTimer?.();
    await this.admissions;
    await this.serially(async () => {
      await this.flushPending();
      if (this.cursorDirty) await this.persistCursor();
      await this.writer?.handle.close();
      await this.headReader?.handle.close();
      await this.cursorHandle?.close();
      this.writer = undefined;
      this.headReader = undefined;
      this.cursorHandle = undefined;
    });
    this.setFull(false);
  }

  // ---- admission --------------------------------------------------------------------------

  private async admit(frame: Buffer, acks: Ack[]): Promise<{ durable: Promise<void> }> {
    if (frame.length > this.maxBytes) {
      throw new SpoolError('SPOOL_BATCH_TOO_LARGE', `a batch of ${frame.length} bytes compressed does not fit a spool of ${this.maxBytes} bytes`);
    }
    if (this.admissionEnded) throw closedError();
    while (this.bytes + frame.length > this.maxBytes) {
      if (this.closed) {
        this.admissionEnded = true;
        throw closedError();
      }
      if (this.whenFull === 'drop-oldest') {
        await this.serially(() => this.dropOldestSegment());
      } else {
        this.setFull(true);
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      }
    }
    this.setFull(false);
    this.bytes += frame.length;
    this.pendingBytes += frame.length;
    const durable = new Promise<void>((resolve, reject) => this.pending.push({ frame, acks, resolve, reject }));
    // Once closed, close() itself writes what is pending.
    if (this.closed) return { durable };
    if (this.pendingBytes >= this.syncBytes) {
      this.syncInBackground();
    } else if (!this.cancelSyncTimer) {
      this.cancelSyncTimer = this.schedule(this.syncIntervalMillis, () => {
        this.cancelSyncTimer = undefined;
        this.syncInBackground();
      });
    }
    return { durable };
  }

  /** A failed write rejects the appends it carried; anything else that fails is logged here. */
  private syncInBackground(): void {
    this.sync().catch((error: Error) => this.log('spool_sync_failed', { directory: this.directory, error: error.message }));
  }

  private setFull(full: boolean): void {
    if (this.full === full) return;
    this.full = full;
    if (!full) {
      const waiters = this.notFullWaiters;
      this.notFullWaiters = [];
      for (const wake of waiters) wake();
    }
    this.options.onFullChange?.(full);
  }

  /** Wakes appends waiting for room, to check again. */
  private signalRoom(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  // ---- file work (always inside `serially`) -----------------------------------------------

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.fileWork.then(work);
    this.fileWork = run.then(ignore, ignore);
    return run;
  }

  /** One write and one sync for every waiting frame. Failures reject the frames' appends. */
  private async flushPending(): Promise<void> {
    if (this.pending.length > 0) {
      const frames = this.pending;
      const bytes = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
      try {
        await this.writeFrames(frames);
      } catch (error) {
        this.bytes -= bytes;
        this.signalRoom();
        const failure = new SpoolError('SPOOL_WRITE_FAILED', `spool write failed: ${(error as Error).message}`);
        this.log('spool_write_failed', { directory: this.directory, error: (error as Error).message });
        for (const frame of frames) frame.reject(failure);
      }
    }
    if (this.cursorDirty) await this.persistCursor();
  }

  private async writeFrames(frames: PendingFrame[]): Promise<void> {
    const writer = await this.openWriter();
    const { segment, handle } = writer;
    const start = segment.size;
    try {
      await writeFully(handle, Buffer.concat(frames.map((f) => f.frame)), start);
      await handle.datasync();
    } catch (error) {
      // Cut back what may have reached the file and start afresh in a new segment, so no frame
      // whose append failed is ever delivered.
      await handle.truncate(start).catch(ignore);
      await this.sealWriter();
      throw error;
    }
    let offset = start;
    for (const frame of frames) {
      if (frame.acks.length > 0) segment.acks.set(offset, frame.acks);
      offset += frame.frame.length;
    }
    segment.size = segment.durable = offset;
    this.counters.appendedBatches += frames.length;
    for (const frame of frames) frame.resolve();
    if (segment.size >= this.segmentBytes) await this.sealWriter();
  }

  private async openWriter(): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.writer) return this.writer;
    const seq = this.nextSeq++;
    const path = join(this.directory, segmentName(seq));
    const handle = await open(path, 'wx');
    try {
      await syncDirectory(this.directory); // the new file's name must survive a power cut too
    } catch (error) {
      await handle.close();
      await unlink(path).catch(ignore);
      throw error;
    }
    const segment: Segment = { seq, path, size: 0, durable: 0, acks: new Map() };
    this.segments.push(segment);
    this.writer = { segment, handle };
    return this.writer;
  }

  private async sealWriter(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    await writer?.handle.close();
  }

  private async readHead(): Promise<SpooledBatch | undefined> {
    if (this.inFlight) return this.inFlight.batch;
    for (;;) {
      const head = this.segments[0];
      if (!head) return undefined;
      if (this.headOffset >= head.durable) {
        if (await this.releaseDeliveredHead()) continue;
        return undefined;
      }
      const handle = await this.headHandle(head);
      const offset = this.headOffset;
      const read = await readFrame(handle, offset, head.durable, true);
      if (read.kind === 'corrupt') {
        this.skipCorrupt(head, offset, read.resumeAt);
        continue;
      }
      let decoded: { streamName: string; records: SpoolRecord[] };
      try {
        decoded = await decodePayload(read.header, read.payload);
      } catch (error) {
        this.skipCorrupt(head, offset, read.end, error as Error);
        continue;
      }
      const batch: SpooledBatch = { ...decoded, acks: head.acks.get(offset) ?? [], dataBytes: read.header.dataBytes };
      this.inFlight = { batch, end: read.end };
      return batch;
    }
  }

  private skipCorrupt(head: Segment, offset: number, resumeAt: number, error?: Error): void {
    this.counters.corruptFrames += 1;
    this.log('spool_corrupt_frame', { segment: head.path, offset, skippedBytes: resumeAt - offset, ...(error ? { error: error.message } : {}) });
    for (const frameOffset of head.acks.keys()) if (frameOffset < resumeAt) head.acks.delete(frameOffset);
    this.headOffset = resumeAt;
    this.moveCursor();
  }

  /**
   * The head segment is read to its durable end and nothing of it is out: delete it, unless it
   * is the writer's and more is on its way into it. True if it was deleted.
   */
  private async releaseDeliveredHead(): Promise<boolean> {
    const head = this.segments[0]!;
    if (this.writer?.segment === head) {
      if (this.pending.length > 0 || head.size > head.durable) return false;
      await this.sealWriter();
    }
    await this.deleteHead();
    return true;
  }

  private async deleteHead(): Promise<void> {
    const head = this.segments.shift()!;
    if (this.headReader?.seq === head.seq) {
      await this.headReader.handle.close();
      this.headReader = undefined;
    }
    await unlink(head.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.bytes -= head.size;
    this.headOffset = 0;
    this.inFlight = undefined;
    this.moveCursor();
    this.signalRoom();
  }

  /** `drop-oldest`: drops every undelivered batch of the oldest segment, then the segment. */
  private async dropOldestSegment(): Promise<void> {
    if (this.segments.length === 0 || this.writer?.segment === this.segments[0]) {
      // The oldest data is still in memory or in the writer's segment: put it on disk first.
      await this.flushPending();
      await this.sealWriter();
    }
    const head = this.segments[0];
    if (!head) return;
    const handle = await this.headHandle(head);
    let offset = this.headOffset;
    while (offset < head.size) {
      const read = await readFrame(handle, offset, head.size, false);
      if (read.kind === 'corrupt') {
        this.counters.corruptFrames += 1;
        offset = read.resumeAt;
        continue;
      }
      const dropped: DroppedBatch = { records: read.header.recordCount, dataBytes: read.header.dataBytes, acks: head.acks.get(offset) ?? [] };
      this.counters.droppedBatches += 1;
      this.counters.droppedRecords += dropped.records;
      this.counters.droppedBytes += dropped.dataBytes;
      this.options.onDrop?.(dropped);
      offset = read.end;
    }
    this.log('spool_dropped_oldest', { segment: head.path, droppedRecords: this.counters.droppedRecords, droppedBytes: this.counters.droppedBytes });
    await this.deleteHead();
  }

  private async headHandle(head: Segment): Promise<FileHandle> {
    if (this.headReader?.seq === head.seq) return this.headReader.handle;
    await this.headReader?.handle.close();
    this.headReader = { seq: head.seq, handle: await open(head.path, 'r') };
    return this.headReader.handle;
  }

  // ---- cursor -----------------------------------------------------------------------------

  /** Delivery moved: write the cursor with the next sync, or within `syncIntervalMillis`. */
  private moveCursor(): void {
    this.cursorDirty = true;
    if (this.cancelCursorTimer || this.closed) return;
    this.cancelCursorTimer = this.schedule(this.syncIntervalMillis, () => {
      this.cancelCursorTimer = undefined;
      void this.serially(async () => {
        if (this.cursorDirty && !this.closed) await this.persistCursor();
      }).catch((error: Error) => this.log('spool_cursor_write_failed', { directory: this.directory, error: error.message }));
    });
  }

  private async persistCursor(): Promise<void> {
    this.cursorDirty = false;
    const head = this.segments[0];
    const cursor = Buffer.alloc(CURSOR_BYTES);
    cursor.writeUInt32LE(CURSOR_MAGIC, 0);
    cursor.writeBigUInt64LE(BigInt(head ? head.seq : this.nextSeq), 4);
    cursor.writeBigUInt64LE(BigInt(head ? this.headOffset : 0), 12);
    cursor.writeUInt32LE(crc32(cursor.subarray(0, 20)), 20);
    // O_RDWR, not append mode: the cursor is rewritten in place at offset 0.
    this.cursorHandle ??= await open(join(this.directory, CURSOR_FILE), fsConstants.O_RDWR | fsConstants.O_CREAT, 0o600);
    await writeFully(this.cursorHandle, cursor, 0);
    await this.cursorHandle.datasync();
  }

  // ---- recovery ---------------------------------------------------------------------------

  private async recover(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const cursor = await readCursor(join(this.directory, CURSOR_FILE));
    const seqs = (await readdir(this.directory))
      .map((name) => SEGMENT_FILE.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    // Never reuse a seq: a stale cursor naming it would skip the start of a new segment.
    this.nextSeq = Math.max(cursor ? cursor.seq + 1 : 0, ...seqs.map((seq) => seq + 1));
    for (const seq of seqs) {
      const path = join(this.directory, segmentName(seq));
      if (cursor && seq < cursor.seq) {
        await unlink(path); // delivered before the crash; its deletion had not reached the disk
        continue;
      }
      const { size } = await stat(path);
      this.segments.push({ seq, path, size, durable: size, acks: new Map() });
    }
    const newest = this.segments.at(-1);
    if (newest) await this.cutTornTail(newest);
    for (const empty of this.segments.filter((segment) => segment.size === 0)) await unlink(empty.path);
    this.segments = this.segments.filter((segment) => segment.size > 0);
    const head = this.segments[0];
    this.headOffset = head && cursor && head.seq === cursor.seq ? Math.min(cursor.offset, head.size) : 0;
    this.bytes = this.segments.reduce((sum, segment) => sum + segment.size, 0);
    this.log('spool_opened', { directory: this.directory, segments: this.segments.length, bytes: this.bytes, truncatedBytes: this.counters.truncatedBytes });
  }

  /** Cuts everything after the newest segment's last frame that passes every check. */
  private async cutTornTail(segment: Segment): Promise<void> {
    const handle = await open(segment.path, 'r+');
    try {
      let goodEnd = 0;
      let offset = 0;
      while (offset < segment.size) {
        const read = await readFrame(handle, offset, segment.size, true);
        if (read.kind === 'frame') goodEnd = offset = read.end;
        else offset = read.resumeAt;
      }
      if (goodEnd === segment.size) return;
      await handle.truncate(goodEnd);
      await handle.datasync();
      this.counters.truncatedBytes += segment.size - goodEnd;
      this.log('spool_tail_cut', { segment: segment.path, offset: goodEnd, bytes: segment.size - goodEnd });
      segment.size = segment.durable = goodEnd;
    } finally {
      await handle.close();
    }
  }
}

// ---- frames ---------------------------------------------------------------------------------

function buildFrame(payload: Buffer, encodedBytes: number, recordCount: number, dataBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(FRAME_MAGIC, 0);
  frame.writeUInt32LE(payload.length, 4);
  frame.writeUInt32LE(encodedBytes, 8);
  frame.writeUInt32LE(recordCount, 12);
  frame.writeUInt32LE(dataBytes, 16);
  frame.writeUInt32LE(crc32(payload), 20);
  frame.writeUInt32LE(crc32(frame.subarray(0, FRAME_HEADER_CHECKED_BYTES)), FRAME_HEADER_CHECKED_BYTES);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

function parseFrameHeader(bytes: Buffer): FrameHeader | undefined {
  if (bytes.length < FRAME_HEADER_BYTES || bytes.readUInt32LE(0) !== FRAME_MAGIC) return undefined;
  if (crc32(bytes.subarray(0, FRAME_HEADER_CHECKED_BYTES)) !== bytes.readUInt32LE(FRAME_HEADER_CHECKED_BYTES)) return undefined;
  const header: FrameHeader = {
    payloadBytes: bytes.readUInt32LE(4),
    encodedBytes: bytes.readUInt32LE(8),
    recordCount: bytes.readUInt32LE(12),
    dataBytes: bytes.readUInt32LE(16),
    payloadCrc: bytes.readUInt32LE(20),
  };
  return header.payloadBytes <= MAX_PAYLOAD_BYTES && header.encodedBytes <= MAX_ENCODED_BYTES ? header : undefined;
}

/**
 * Reads the frame at `offset`, not past `limit`. A damaged header resumes at the next valid one
 * (or `limit`); a frame that runs past `limit` or fails its payload checksum resumes after it.
 * `withPayload` false reads and checks the header only.
 */
async function readFrame(handle: FileHandle, offset: number, limit: number, withPayload: boolean): Promise<FrameRead> {
  const header = parseFrameHeader(await readAt(handle, offset, Math.min(FRAME_HEADER_BYTES, limit - offset)));
  if (!header) return { kind: 'corrupt', resumeAt: await findNextHeader(handle, offset + 1, limit) };
  const end = offset + FRAME_HEADER_BYTES + header.payloadBytes;
  if (end > limit) return { kind: 'corrupt', resumeAt: limit };
  if (!withPayload) return { kind: 'frame', header, payload: Buffer.alloc(0), end };
  const payload = await readAt(handle, offset + FRAME_HEADER_BYTES, header.payloadBytes);
  if (crc32(payload) !== header.payloadCrc) return { kind: 'corrupt', resumeAt: end };
  return { kind: 'frame', header, payload, end };
}

/** The offset of the first valid frame header at or after `from`, or `limit`. */
async function findNextHeader(handle: FileHandle, from: number, limit: number): Promise<number> {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(FRAME_MAGIC);
  let position = from;
  while (position + FRAME_HEADER_BYTES <= limit) {
    const chunk = await readAt(handle, position, Math.min(RESYNC_CHUNK_BYTES, limit - position));
    for (let at = chunk.indexOf(magic); at !== -1; at = chunk.indexOf(magic, at + 1)) {
      const candidate = position + at;
      if (candidate + FRAME_HEADER_BYTES > limit) return limit;
      const bytes = at + FRAME_HEADER_BYTES <= chunk.length ? chunk.subarray(at, at + FRAME_HEADER_BYTES) : await readAt(handle, candidate, FRAME_HEADER_BYTES);
      if (parseFrameHeader(bytes)) return candidate;
    }
    // Overlap the next chunk by three bytes so a magic split across chunks is still seen.
    position += chunk.length - (magic.length - 1);
  }
  return limit;
}

// ---- batch encoding -------------------------------------------------------------------------

function encodeBatch(batch: SpoolBatch): { bytes: Buffer; dataBytes: number } {
  const streamName = lengthPrefixable(batch.streamName, 'stream name');
  let size = 2 + streamName.length + 4;
  let dataBytes = 0;
  const keys = batch.records.map((record) => {
    const partitionKey = record.partitionKey === undefined ? undefined : lengthPrefixable(record.partitionKey, 'partition key');
    const explicitHashKey = record.explicitHashKey === undefined ? undefined : lengthPrefixable(record.explicitHashKey, 'explicit hash key');
    size += 1 + (partitionKey ? 2 + partitionKey.length : 0) + (explicitHashKey ? 2 + explicitHashKey.length : 0) + 4 + record.data.length;
    dataBytes += record.data.length;
    return { partitionKey, explicitHashKey };
  });
  if (size > MAX_ENCODED_BYTES) throw new SpoolError('SPOOL_BATCH_TOO_LARGE', `a batch of ${size} bytes is over the spool's ${MAX_ENCODED_BYTES}-byte frame limit`);
  const bytes = Buffer.allocUnsafe(size);
  let offset = writeLengthPrefixed(bytes, 0, streamName);
  offset = bytes.writeUInt32LE(batch.records.length, offset);
  batch.records.forEach((record, i) => {
    const { partitionKey, explicitHashKey } = keys[i]!;
    offset = bytes.writeUInt8((partitionKey ? HAS_PARTITION_KEY : 0) | (explicitHashKey ? HAS_EXPLICIT_HASH_KEY : 0), offset);
    if (partitionKey) offset = writeLengthPrefixed(bytes, offset, partitionKey);
    if (explicitHashKey) offset = writeLengthPrefixed(bytes, offset, explicitHashKey);
    offset = bytes.writeUInt32LE(record.data.length, offset);
    offset += record.data.copy(bytes, offset);
  });
  return { bytes, dataBytes };
}

function lengthPrefixable(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_LENGTH_PREFIXED_BYTES) throw new SpoolError('SPOOL_INVALID_BATCH', `a ${what} of ${bytes.length} bytes is too long to spool`);
  return bytes;
}

function writeLengthPrefixed(target: Buffer, offset: number, bytes: Buffer): number {
  const after = target.writeUInt16LE(bytes.length, offset);
  return after + bytes.copy(target, after);
}

/** Throws on anything that does not decode exactly; the caller counts the frame as corrupt. */
async function decodePayload(header: FrameHeader, payload: Buffer): Promise<{ streamName: string; records: SpoolRecord[] }> {
  const bytes = await zstdDecompress(payload, header.encodedBytes);
  let offset = 0;
  const take = (length: number): Buffer => {
    if (offset + length > bytes.length) throw new Error('encoded batch is truncated');
    const slice = bytes.subarray(offset, offset + length);
    offset += length;
    return slice;
  };
  const takeText = (): string => take(take(2).readUInt16LE(0)).toString('utf8');
  const streamName = takeText();
  const count = take(4).readUInt32LE(0);
  if (count !== header.recordCount) throw new Error(`encoded batch holds ${count} records, its header says ${header.recordCount}`);
  const records: SpoolRecord[] = [];
  for (let i = 0; i < count; i++) {
    const flags = take(1)[0]!;
    const record: SpoolRecord = { data: Buffer.alloc(0) };
    if (flags & HAS_PARTITION_KEY) record.partitionKey = takeText();
    if (flags & HAS_EXPLICIT_HASH_KEY) record.explicitHashKey = takeText();
    record.data = take(take(4).readUInt32LE(0));
    records.push(record);
  }
  if (offset !== bytes.length) throw new Error('encoded batch has trailing bytes');
  return { streamName, records };
}

// ---- files ----------------------------------------------------------------------------------

function segmentName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.spool`;
}

async function readCursor(path: string): Promise<{ seq: number; offset: number } | undefined> {
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      bytes = await readAt(handle, 0, CURSOR_BYTES);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (bytes.length < CURSOR_BYTES || bytes.readUInt32LE(0) !== CURSOR_MAGIC || crc32(bytes.subarray(0, 20)) !== bytes.readUInt32LE(20)) return undefined;
  return { seq: Number(bytes.readBigUInt64LE(4)), offset: Number(bytes.readBigUInt64LE(12)) };
}

/** Up to `length` bytes at `position`; fewer at the end of the file. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(Math.max(0, length));
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new SpoolError('INVALID_SPOOL_OPTION', `${name} must be a positive integer, got ${value}`);
  return value;
}

function closedError(): SpoolError {
  return new SpoolError('SPOOL_CLOSED', 'the spool is closed');
}

function ignore(): void {}
