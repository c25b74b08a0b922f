/**
 * One file's content as the source follows it: identity, read offset, records waiting to be
 * emitted, records in flight (ack-window.ts) and the checkpoint they allow.
 *
 * A TrackedFile follows content, not a path: rename keeps it (same inode), a copy can take it
 * over (same fingerprint, see the source's orphan adoption), truncation ends it. Its states:
 * - `live`: open, at a path that matches the pattern; read as it grows.
 * - `rotated`: open, but renamed to a name outside the pattern or deleted; read to its end and
 *   closed once it has not grown for `rotateWaitMillis`.
 * - `orphaned`: its bytes were truncated away (copytruncate) and no file holds them yet; a copy
 *   that appears (same fingerprint, at least as long) takes it over, else it ends.
 * - `ended`: closed; kept until its last records are settled, for the checkpoint (and, should
 *   its file turn up again under a matching name, to go on reading it rather than read it twice).
 *
 * It is its own AckTarget: sequence numbers are per TrackedFile, so records of content that
 * was truncated away still settle the right watermark.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Clock } from '../../../shared/clock.js';
import type { AckTarget, AgentRecord } from '../../record.js';
import { AckWindow } from './ack-window.js';
import type { FileCheckpoint } from './checkpoint-store.js';
import { continuesHead, fingerprintOf, readAt, readHead, type FileIdentity } from './file-identity.js';
import { RecordSplitter, type RecordSplitterOptions, type SplitRecord } from './record-splitter.js';

export type TrackState = 'live' | 'rotated' | 'orphaned' | 'ended';

/** What reading needs from the source. */
export interface ReadContext {
  /** Hands a record on (the source pauses itself when its consumer wants no more). */
  emit(record: AgentRecord): void;
  isPaused(): boolean;
  readChunkBytes: number;
}

/** How a read pass ended. */
export type ReadOutcome = 'caught-up' | 'paused' | 'content-changed' | 'closed' | 'busy';

export interface TrackedFileCounters {
  recordsEmitted: number;
  truncatedRecords: number;
}

export class TrackedFile implements AckTarget {
  readonly spoolIsSafe = false;
  state: TrackState;
  /** When `state` was last set (clock ms). */
  stateSince: number;
  /** `rotated`, and a later scan found it rotated still: it may be let go. */
  rotationConfirmed = false;
  handle: FileHandle | undefined;
  readOffset: number;
  /** Size and mtime from the last stat. */
  size: number;
  modifiedAt = 0;
  /** When new bytes were last read (clock ms). */
  lastGrowthAt: number;
  /** When the checkpoint last covered the whole file (clock ms), for the lag in seconds. */
  caughtUpAt: number;
  readonly counters: TrackedFileCounters = { recordsEmitted: 0, truncatedRecords: 0 };
  /**
   * The content's first bytes (up to FINGERPRINT_BYTES) as read from the file, what identifies
   * it while running; `identity.fingerprint` is their hash. Empty for an orphan made from a
   * stored checkpoint: only the hash is known until a file is found for it.
   */
  head: Buffer = Buffer.alloc(0);
  private readonly window: AckWindow;
  private readonly splitter: RecordSplitter;
  private pending: SplitRecord[] = [];
  private pendingIndex = 0;
  private reading = false;
  private readAgain = false;

  constructor(
    public path: string,
    readonly identity: FileIdentity,
    head: Buffer | undefined,
    startOffset: number,
    splitterOptions: RecordSplitterOptions,
    /** The committed offset moved: checkpoints to write. */
    private readonly onCommit: () => void,
    private readonly clock: Clock,
  ) {
    const now = clock.now();
    if (head) this.setHead(head);
    this.state = 'live';
    this.stateSince = now;
    this.readOffset = startOffset;
    this.size = startOffset;
    this.lastGrowthAt = now;
    this.caughtUpAt = now;
    this.window = new AckWindow(startOffset);
    // Kinesis Agent AbstractParser: header lines are skipped only when reading from the first byte.
    this.splitter = new RecordSplitter({ ...splitterOptions, skipHeaderLines: startOffset === 0 ? splitterOptions.skipHeaderLines : 0 }, startOffset);
  }

  get committedOffset(): number {
    return this.window.committedOffset;
  }

  get inFlight(): number {
    return this.window.inFlight;
  }

  /** Records split but not yet emitted (the source was paused). */
  get hasUnemitted(): boolean {
    return this.pendingIndex < this.pending.length;
  }

  /** Nothing left to emit or settle. */
  get isDone(): boolean {
    return !this.hasUnemitted && this.window.inFlight === 0;
  }

  /** The content's first bytes are now known to be `head` (identity follows). */
  setHead(head: Buffer): void {
    this.head = Buffer.from(head); // a copy: `head` may be a view of a larger read buffer
    this.identity.fingerprint = fingerprintOf(this.head);
    this.identity.fingerprintBytes = this.head.length;
  }

  setState(state: TrackState): void {
    this.state = state;
    this.stateSince = this.clock.now();
    this.rotationConfirmed = false;
  }

  settle(from: number, to: number): void {
    if (this.window.settle(from, to)) this.committed();
  }

  private committed(): void {
    if (this.window.committedOffset >= this.size) this.caughtUpAt = this.clock.now();
    this.onCommit();
  }

  checkpoint(): FileCheckpoint {
    return { path: this.path, ...this.identity, offset: this.window.committedOffset };
  }

  /**
   * Emits what is pending, then reads and emits until the end of the file, a pause, or a sign
   * that the file no longer holds this content. One pass at a time; a call during a pass makes
   * that pass look again before it ends.
   */
  async readAvailable(context: ReadContext): Promise<ReadOutcome> {
    if (this.reading) {
      this.readAgain = true;
      return 'busy';
    }
    this.reading = true;
    try {
      let outcome: ReadOutcome;
      do {
        this.readAgain = false;
        outcome = await this.readPass(context);
      } while (this.readAgain && outcome === 'caught-up');
      return outcome;
    } finally {
      this.reading = false;
    }
  }

  private async readPass(context: ReadContext): Promise<ReadOutcome> {
    if (!this.drainPending(context)) return 'paused';
    for (;;) {
      const handle = this.handle;
      if (!handle) return 'closed';
      const stats = await handle.stat({ bigint: true });
      this.size = Number(stats.size);
      this.modifiedAt = Number(stats.mtimeMs);
      if (this.size < this.readOffset) return 'content-changed';
      if (this.size === this.readOffset) {
        // Truncated and refilled to the very size already read: only the first bytes tell.
        // (mtime would not: its coarse clock can keep the same value across the rewrite.)
        if (this.size > 0 && !(await this.sameContent(handle))) return 'content-changed';
        if (this.window.committedOffset >= this.size) this.caughtUpAt = this.clock.now();
        return 'caught-up';
      }
      const chunk = await readAt(handle, this.readOffset, Math.min(this.size - this.readOffset, context.readChunkBytes));
      if (chunk.length === 0) return 'caught-up';
      // Checked after the read: bytes read from a file truncated and refilled meanwhile are dropped.
      if (!(await this.sameContent(handle, chunk))) return 'content-changed';
      if (this.handle !== handle) return 'closed';
      this.readOffset += chunk.length;
      this.lastGrowthAt = this.clock.now();
      this.queue(this.splitter.push(chunk));
      if (!this.drainPending(context)) return 'paused';
    }
  }

  /**
   * Whether the open file still holds this content (its first bytes continue `head`, and agree
   * with `chunk`, just read at the read offset); if so `head` grows with what the file now has.
   */
  private async sameContent(handle: FileHandle, chunk?: Buffer): Promise<boolean> {
    const current = await readHead(handle);
    if (!continuesHead(current, this.head, chunk, this.readOffset)) return false;
    if (current.length > this.head.length) this.setHead(current);
    return true;
  }

  /** Multiline: sends the record being assembled if the file has been quiet for `quietMillis`. */
  flushQuietRecord(context: ReadContext, quietMillis: number): void {
    if (!this.splitter.hasPendingRecord || this.clock.now() - this.lastGrowthAt < quietMillis) return;
    const record = this.splitter.flushPendingRecord();
    if (record) this.queue([record]);
    this.drainPending(context);
  }

  /** The content has ended for good: held bytes (an unterminated last line) become records. */
  async end(context: ReadContext): Promise<void> {
    this.queue(this.splitter.flushAtEnd());
    this.setState('ended');
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
    this.drainPending(context);
  }

  /** Emits pending records until none is left (true) or the source pauses (false). */
  private drainPending(context: ReadContext): boolean {
    while (this.pendingIndex < this.pending.length) {
      if (context.isPaused()) return false;
      const record = this.pending[this.pendingIndex++]!;
      if (this.window.skipTo(record.startOffset)) this.committed();
      const sequence = this.window.push(record.endOffset);
      this.counters.recordsEmitted++;
      if (record.truncated) this.counters.truncatedRecords++;
      context.emit({ data: record.data, acks: [{ target: this, from: sequence, to: sequence }] });
    }
    this.pending = [];
    this.pendingIndex = 0;
    return true;
  }

  private queue(records: SplitRecord[]): void {
    if (records.length === 0) return;
    if (this.pendingIndex >= this.pending.length) {
      this.pending = records;
      this.pendingIndex = 0;
    } else {
      this.pending.push(...records);
    }
  }
}
