/**
 * The tail source of one file flow: finds the files of `filePattern`, follows them through
 * rotation, reads them by offset and hands their records on, and keeps their checkpoints.
 *
 * Discovery: one chokidar watch on the pattern's directory (directory-watcher.ts). Its events
 * only say "look": a change of a tailed file starts a read of it; anything else starts a scan
 * (list the directory, stat what matches). A poll every `pollIntervalMillis` re-reads open
 * files and a scan every `scanIntervalMillis` catches what the kernel did not report.
 *
 * Rotation, by identity (file-identity.ts), so no line is lost or read twice:
 * - rename + create: the renamed file stays open and is read to its end (`rotated`, unless its
 *   new name still matches), then closed once quiet for `rotateWaitMillis` and a second scan
 *   agrees it is gone (a rename during a listing can hide a file from one scan); the new file
 *   is new.
 * - deletion: the same — an open file can be read after it is unlinked.
 * - timestamped new files: just new files.
 * - copytruncate: the truncation is seen (size below the read offset, or the first bytes
 *   changed); the content read so far becomes an orphan that the copy takes over when it appears
 *   in the directory (same first bytes, whatever its name), reading on from the same offset. A
 *   copy seen before the truncate waits up to `rotateWaitMillis` for it.
 *   What the writer adds between the copy and the truncate is lost — copytruncate's own race.
 * - reused inode, truncate-and-refill: the first bytes differ, so it is new content from byte 0.
 * What the source never opened is not the flow's once its name leaves the pattern: a file
 * renamed out of the pattern or deleted before the source saw it, or copytruncate generations
 * that came and went unseen with the copies outside the pattern. The source looks within
 * milliseconds of an event; where rotations can follow each other faster, or the agent may be
 * down across several rotations, let the pattern match the rotated names too, as the Kinesis
 * Agent's own example does (`/tmp/app.log*`).
 *
 * Checkpoints: each file's committed offset (ack-window.ts), stored by checkpoint-store.ts. On
 * start, each stored file is looked for by device + inode + fingerprint, then by fingerprint
 * alone (a copy), in the directory whatever the names, and read on from its offset; stored files
 * not found are dropped. `initialPosition` applies only to files present when the flow first
 * runs (it has no checkpoints yet).
 *
 * Backpressure: when the consumer's `emit` returns false, or `pause()` is called, the source
 * stops after the record in hand and reads nothing until `resume()`.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/log.js';
import type { AgentRecord } from '../../record.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { resolveTailSpec, type TailSettings, type TailSourceSpec } from './config.js';
import { watchDirectory, type DirectoryEventKind, type DirectoryWatcher } from './directory-watcher.js';
import { TailError, isPermissionError, systemErrorCode, tailErrorCodes } from './errors.js';
import { fingerprintOf, hasCompressedMagic, hasCompressedName, inodeKey, readAt, readHead, sameStart, startsWithFingerprint, type FileIdentity } from './file-identity.js';
import type { RecordSplitterOptions } from './record-splitter.js';
import { systemSchedule, type Schedule } from '../../../shared/clock.js';
import { TrackedFile, type ReadContext, type TrackState } from './tracked-file.js';

export interface TailConsumer {
  /** Takes a record; false asks the source to stop reading until `resume()`. */
  emit(record: AgentRecord): boolean;
}

export interface TailSourceDependencies {
  consumer: TailConsumer;
  checkpoints: CheckpointStore;
  clock?: Clock;
  /** Drives the source's poll; tests pass one that never fires and call `tick()`. */
  schedule?: Schedule;
  log?: Logger;
  /** Problems with files, the directory or the watch; each also shows in `status()`. */
  onError?: (error: TailError) => void;
  /** Opens a file for reading. Default `fs.promises.open(path, 'r')`. */
  openFile?: (path: string) => Promise<FileHandle>;
}

export interface TailFileStatus {
  path: string;
  state: TrackState;
  dev: string;
  ino: string;
  fingerprint: string;
  /** Bytes read from the file. */
  readOffset: number;
  /** Bytes delivered: where reading resumes after a restart. */
  checkpointOffset: number;
  size: number;
  /** Bytes not yet delivered: size - checkpointOffset. */
  lagBytes: number;
  /** Seconds since the file was last fully delivered (0 when it is). */
  lagSeconds: number;
  /** The file's mtime (ms since the epoch) at the last stat. */
  modifiedAt: number;
  recordsEmitted: number;
  truncatedRecords: number;
  recordsInFlight: number;
}

export interface TailSourceStatus {
  flowId: string;
  filePattern: string;
  paused: boolean;
  files: TailFileStatus[];
  /** Matching files that cannot be read, with the error reported for each. */
  unreadable: Array<{ path: string; code: string; message: string }>;
  /** Matching files skipped as compressed. */
  skippedCompressed: string[];
  lastError?: { code: string; message: string; path?: string };
}

interface Candidate {
  /** `dev:ino` when listed. */
  key: string;
  path: string;
  /** The name matches the pattern (a non-matching file is only looked at to adopt an orphan). */
  matching: boolean;
}

interface OpenedFile {
  handle: FileHandle;
  key: string;
  size: number;
  /** The first FINGERPRINT_BYTES bytes (fewer if the file is shorter). */
  head: Buffer;
}

const NEWLINE = 0x0a;
/** Step of the backwards search for the last line start (END_OF_FILE). */
const TAIL_SEARCH_CHUNK_BYTES = 64 * 1024;

export class TailSource {
  private readonly settings: TailSettings;
  private readonly clock: Clock;
  private readonly schedule: Schedule;
  private readonly log: Logger;
  private readonly openFile: (path: string) => Promise<FileHandle>;
  private readonly splitterOptions: RecordSplitterOptions;
  private readonly readContext: ReadContext;

  /** Open files (`live` and `rotated`) by `dev:ino`. */
  private readonly tracks = new Map<string, TrackedFile>();
  /** Content without a file: truncated away, or stored checkpoints not yet matched. */
  private orphans: TrackedFile[] = [];
  /** Orphans made from stored checkpoints: dropped after the first scan if nothing matched. */
  private readonly storedOrphans = new Set<TrackedFile>();
  /** Closed files whose last records are not settled yet. */
  private ended: TrackedFile[] = [];
  private readonly unreadable = new Map<string, TailError>();
  /** Compressed by content, by `dev:ino` → path; compressed by name, paths. */
  private readonly compressedByContent = new Map<string, string>();
  private compressedByName: string[] = [];
  /** Files that start like a live file (copytruncate's copy?), by `dev:ino` → first seen. */
  private readonly possibleCopies = new Map<string, number>();
  /** Paths present at the first scan of a flow with no checkpoints, not yet opened: `initialPosition` applies to them. */
  private readonly presentAtFirstRun = new Set<string>();
  private readonly reportedErrors = new Map<string, string>();
  private lastError: TailError | undefined;

  private flowKnown = false;
  private firstScanDone = false;
  private lastScanAt = 0;
  private scanRequested = false;
  private scanning: Promise<void> | undefined;
  private readonly work = new Set<Promise<void>>();
  private watcher: DirectoryWatcher | undefined;
  private watchedDirectory: string | undefined;
  private cancelTick: (() => void) | undefined;
  private paused = false;
  private started = false;
  private stopped = false;

  constructor(
    spec: TailSourceSpec,
    private readonly dependencies: TailSourceDependencies,
  ) {
    this.settings = resolveTailSpec(spec);
    this.clock = dependencies.clock ?? systemClock;
    this.schedule = dependencies.schedule ?? systemSchedule;
    this.log = dependencies.log ?? (() => undefined);
    this.openFile = dependencies.openFile ?? ((path) => open(path, 'r'));
    this.splitterOptions = {
      maxRecordBytes: this.settings.maxRecordBytes,
      truncatedRecordTerminator: this.settings.truncatedRecordTerminator,
      skipHeaderLines: this.settings.skipHeaderLines,
      ...(this.settings.multiLineStartPattern ? { multiLineStartPattern: this.settings.multiLineStartPattern } : {}),
    };
    this.readContext = {
      emit: (record) => {
        if (!this.dependencies.consumer.emit(record)) this.paused = true;
      },
      isPaused: () => this.paused || this.stopped,
      readChunkBytes: this.settings.readChunkBytes,
    };
  }

  get flowId(): string {
    return this.settings.flowId;
  }

  /** Loads the flow's checkpoints, scans the directory, starts watching and reading. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`tail source ${this.flowId} already started`);
    this.started = true;
    const stored = this.dependencies.checkpoints.saved(this.flowId);
    this.flowKnown = stored !== undefined;
    for (const entry of stored ?? []) {
      const identity: FileIdentity = { dev: entry.dev, ino: entry.ino, fingerprint: entry.fingerprint, fingerprintBytes: entry.fingerprintBytes };
      const orphan = this.newTrack(entry.path, identity, undefined, entry.offset);
      orphan.setState('orphaned');
      this.orphans.push(orphan);
      this.storedOrphans.add(orphan);
    }
    this.dependencies.checkpoints.attach(this.flowId, () => this.allTracks().map((track) => track.checkpoint()));
    this.requestScan();
    await this.scanning;
    this.armTick();
  }

  /** Stop reading (the pipeline is full); records already emitted are unaffected. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const track of this.allTracks()) this.read(track);
  }

  /**
   * Housekeeping, run every `pollIntervalMillis` by the source's schedule (tests with a manual
   * schedule call it after moving their clock): polls open files, sends quiet multiline records,
   * ends rotated files and orphans past `rotateWaitMillis`, rescans when due.
   */
  async tick(): Promise<void> {
    if (this.stopped) return;
    await Promise.all(this.allTracks().map((track) => this.read(track)));
    const now = this.clock.now();
    const { rotateWaitMillis, multiLineFlushMillis } = this.settings;
    for (const track of this.tracks.values()) track.flushQuietRecord(this.readContext, multiLineFlushMillis);
    const quiet = (track: TrackedFile) => now - Math.max(track.lastGrowthAt, track.stateSince) >= rotateWaitMillis;
    const rotatedAndRead = [...this.tracks.values()].filter((track) => track.state === 'rotated' && !track.hasUnemitted && track.readOffset >= track.size && quiet(track));
    for (const track of rotatedAndRead) {
      if (!track.rotationConfirmed) {
        this.requestScan();
        continue;
      }
      const key = inodeKey(track.identity);
      if (this.tracks.get(key) !== track) continue; // reopened or changed meanwhile
      this.tracks.delete(key);
      await this.endTrack(track, 'tail_file_ended');
    }
    for (const orphan of this.orphans.filter((other) => !this.storedOrphans.has(other) && quiet(other))) {
      if (!this.orphans.includes(orphan)) continue; // adopted meanwhile
      this.orphans = this.orphans.filter((other) => other !== orphan);
      await this.endTrack(orphan, 'tail_orphan_ended');
    }
    if (this.ended.some((track) => track.isDone)) {
      this.ended = this.ended.filter((track) => !track.isDone);
      this.dependencies.checkpoints.changed();
    }
    if (!this.firstScanDone || this.possibleCopies.size > 0 || now - this.lastScanAt >= this.settings.scanIntervalMillis) {
      this.requestScan();
      await this.scanning;
    }
  }

  status(): TailSourceStatus {
    const now = this.clock.now();
    const files = this.allTracks().map((track): TailFileStatus => {
      const lagBytes = Math.max(0, track.size - track.committedOffset);
      return {
        path: track.path,
        state: track.state,
        dev: track.identity.dev,
        ino: track.identity.ino,
        fingerprint: track.identity.fingerprint,
        readOffset: track.readOffset,
        checkpointOffset: track.committedOffset,
        size: track.size,
        lagBytes,
        lagSeconds: lagBytes === 0 ? 0 : Math.max(0, (now - track.caughtUpAt) / 1000),
        modifiedAt: track.modifiedAt,
        recordsEmitted: track.counters.recordsEmitted,
        truncatedRecords: track.counters.truncatedRecords,
        recordsInFlight: track.inFlight,
      };
    });
    return {
      flowId: this.flowId,
      filePattern: this.settings.filePattern,
      paused: this.paused,
      files,
      unreadable: [...this.unreadable].map(([path, error]) => ({ path, code: error.code, message: error.message })),
      skippedCompressed: [...this.compressedByName, ...this.compressedByContent.values()],
      ...(this.lastError ? { lastError: { code: this.lastError.code, message: this.lastError.message, ...(this.lastError.path !== undefined ? { path: this.lastError.path } : {}) } } : {}),
    };
  }

  /**
   * Stops watching and reading, closes the files and writes the checkpoints. Records still in
   * flight may settle afterwards: their offsets reach the checkpoint file when the store closes.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTick?.();
    await this.watcher?.close();
    this.watcher = undefined;
    await this.scanning;
    await Promise.allSettled([...this.work]);
    for (const track of this.allTracks()) {
      const handle = track.handle;
      track.handle = undefined;
      await handle?.close();
    }
    this.dependencies.checkpoints.changed();
    await this.dependencies.checkpoints.flush();
  }

  private allTracks(): TrackedFile[] {
    return [...this.tracks.values(), ...this.orphans, ...this.ended];
  }

  private newTrack(path: string, identity: FileIdentity, head: Buffer | undefined, startOffset: number): TrackedFile {
    return new TrackedFile(path, identity, head, startOffset, this.splitterOptions, () => this.dependencies.checkpoints.changed(), this.clock);
  }

  private armTick(): void {
    if (this.stopped) return;
    this.cancelTick = this.schedule(this.settings.pollIntervalMillis, () => {
      this.cancelTick = undefined;
      void this.tick()
        .catch((error: unknown) => this.log('tail_tick_failed', { flow: this.flowId, error: (error as Error).message }))
        .finally(() => this.armTick());
    });
  }

  // ---- reading ----

  /** Starts (or joins) a read of `track`; resolves when it is done. */
  private read(track: TrackedFile): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const done = this.readTrack(track).finally(() => this.work.delete(done));
    this.work.add(done);
    return done;
  }

  private async readTrack(track: TrackedFile): Promise<void> {
    try {
      const outcome = await track.readAvailable(this.readContext);
      if (outcome === 'caught-up') this.reportedErrors.delete(track.path);
      if (outcome === 'content-changed') await this.contentChanged(track);
    } catch (error) {
      if (this.stopped && systemErrorCode(error) === 'EBADF') return;
      // Retried at the next event or poll.
      this.report(track.path, isPermissionError(error) ? tailErrorCodes.fileUnreadable : tailErrorCodes.readFailed, `cannot read ${track.path}: ${(error as Error).message}`, error);
    }
  }

  /**
   * The open file no longer holds what `track` read (copytruncate, or truncated and refilled):
   * `track` becomes an orphan awaiting a copy, and the file's new content a new track from byte 0.
   */
  private async contentChanged(track: TrackedFile): Promise<void> {
    const key = inodeKey(track.identity);
    if (this.tracks.get(key) !== track || !track.handle) return;
    const handle = track.handle;
    track.handle = undefined;
    this.tracks.delete(key);
    const wasLive = track.state === 'live';
    track.setState('orphaned');
    this.orphans.push(track);
    this.log('tail_file_truncated', { flow: this.flowId, path: track.path, readOffset: track.readOffset });
    if (wasLive && !this.stopped) {
      const opened = await this.describe(handle);
      const fresh = this.newTrack(track.path, this.identityOf(opened), opened.head, 0);
      fresh.handle = handle;
      this.tracks.set(key, fresh);
      void this.read(fresh);
    } else {
      await handle.close();
    }
    this.dependencies.checkpoints.changed();
    this.requestScan();
  }

  private async endTrack(track: TrackedFile, event: string): Promise<void> {
    await track.end(this.readContext);
    this.ended.push(track);
    this.dependencies.checkpoints.changed();
    this.log(event, { flow: this.flowId, path: track.path, readOffset: track.readOffset });
  }

  // ---- discovery ----

  private onDirectoryEvent(kind: DirectoryEventKind, name: string | undefined): void {
    if (this.stopped) return;
    if (name === undefined) {
      this.requestScan();
      return;
    }
    const path = join(this.settings.pattern.directory, name);
    let tracked = false;
    for (const track of this.tracks.values()) {
      if (track.path !== path) continue;
      tracked = true;
      void this.read(track);
    }
    const matching = this.settings.pattern.matches(name);
    const lookingForFiles = this.orphans.length > 0 || this.possibleCopies.size > 0;
    // A write to a tailed file needs only the read; writes to other files of the directory
    // (syslog next to app.log) need nothing. New names, renames, deletions and a chmod of a
    // matching file that could not be read need a scan.
    if (kind === 'rename' ? matching || tracked || lookingForFiles : matching && !tracked) this.requestScan();
  }

  private requestScan(): void {
    this.scanRequested = true;
    if (this.scanning || this.stopped) return;
    this.scanning = (async () => {
      try {
        while (this.scanRequested && !this.stopped) {
          this.scanRequested = false;
          try {
            await this.scan();
          } catch (error) {
            // Retried at the next event or scan interval.
            const { directory } = this.settings.pattern;
            this.report(directory, tailErrorCodes.readFailed, `scan of ${directory} failed: ${(error as Error).message}`, error);
          }
        }
      } finally {
        this.scanning = undefined;
      }
    })();
  }

  private async scan(): Promise<void> {
    const { directory } = this.settings.pattern;
    let names: string[];
    try {
      // Watch first, then list: a file created in between is in the listing or makes an event.
      await this.ensureWatcher();
      names = await readdir(directory);
    } catch (error) {
      if (systemErrorCode(error) !== 'ENOENT') {
        this.report(directory, tailErrorCodes.directoryUnreadable, `cannot list ${directory}: ${(error as Error).message}`, error);
        return;
      }
      names = []; // the directory is gone (or not there yet): its files are rotated away
      await this.watcher?.close();
      this.watcher = undefined;
    }
    this.reportedErrors.delete(directory);
    const seen = await this.listCandidates(names);
    this.followKnownFiles(seen);
    if (!this.firstScanDone && !this.flowKnown) {
      for (const candidate of seen.values()) if (candidate.matching) this.presentAtFirstRun.add(candidate.path);
    }
    // Files that may hold known content by inode first (a stored checkpoint's file, an ended
    // file back under a matching name), so that a copy cannot take what its original holds.
    const knownInodes = new Set([...this.orphans, ...this.ended].map((track) => inodeKey(track.identity)));
    const candidates = [...seen.values()].sort((a, b) => Number(knownInodes.has(b.key)) - Number(knownInodes.has(a.key)));
    for (const candidate of candidates) await this.place(candidate);
    if (!this.firstScanDone) {
      this.firstScanDone = true;
      for (const orphan of this.storedOrphans) {
        this.log('tail_checkpoint_unmatched', { flow: this.flowId, path: orphan.path, offset: orphan.committedOffset });
      }
      this.orphans = this.orphans.filter((orphan) => !this.storedOrphans.has(orphan));
      this.storedOrphans.clear();
      this.dependencies.checkpoints.changed();
    }
    this.lastScanAt = this.clock.now();
  }

  /**
   * The directory's regular files by `dev:ino`: those that match the pattern, and while an
   * orphan waits for its copy, all others too. Compressed files are left out.
   */
  private async listCandidates(names: string[]): Promise<Map<string, Candidate>> {
    const { directory } = this.settings.pattern;
    const everything = this.orphans.length > 0;
    const seen = new Map<string, Candidate>();
    const compressedByName: string[] = [];
    for (const name of names) {
      const matching = this.settings.pattern.matches(name);
      if (!matching && !everything) continue;
      const path = join(directory, name);
      if (hasCompressedName(name)) {
        if (matching) compressedByName.push(path);
        continue;
      }
      let stats;
      try {
        stats = await stat(path, { bigint: true });
      } catch {
        continue; // gone since the listing
      }
      const key = inodeKey(stats);
      if (stats.isFile()) seen.set(key, { key, path, matching });
    }
    this.compressedByName = compressedByName;
    const paths = new Set([...seen.values()].map((candidate) => candidate.path));
    for (const key of this.compressedByContent.keys()) if (!seen.has(key)) this.compressedByContent.delete(key);
    for (const key of this.possibleCopies.keys()) if (!seen.has(key)) this.possibleCopies.delete(key);
    for (const path of this.unreadable.keys()) if (!paths.has(path)) this.unreadable.delete(path);
    for (const path of this.presentAtFirstRun) if (!paths.has(path)) this.presentAtFirstRun.delete(path);
    for (const key of this.compressedByContent.keys()) seen.delete(key);
    return seen;
  }

  /**
   * Open files: a new path if renamed, `rotated` once no matching name holds them. A rotation
   * is confirmed by a second scan before the file is let go: a rename between a listing and its
   * stats can hide a file from one scan.
   */
  private followKnownFiles(seen: Map<string, Candidate>): void {
    for (const [key, track] of this.tracks) {
      const candidate = seen.get(key);
      seen.delete(key);
      if (candidate) track.path = candidate.path;
      const state = candidate?.matching ? 'live' : 'rotated';
      if (track.state === state) {
        if (state === 'rotated') track.rotationConfirmed = true;
        continue;
      }
      track.setState(state);
      if (state === 'rotated') this.log('tail_file_rotated', { flow: this.flowId, path: track.path });
    }
  }

  /**
   * Decides what a file that nothing follows is: known content found again, a new file of the
   * flow, a possible copy to wait on, or none of the flow's business.
   */
  private async place(candidate: Candidate): Promise<void> {
    if (this.tracks.has(candidate.key) || this.stopped) return;
    const file = await this.openCandidate(candidate);
    if (!file) return;
    let kept = false;
    try {
      kept = await this.placeOpened(candidate, file);
    } finally {
      if (!kept) await file.handle.close();
    }
  }

  /** Returns whether `file`'s handle now belongs to a track. */
  private async placeOpened(candidate: Candidate, file: OpenedFile): Promise<boolean> {
    if (this.tracks.has(file.key) || this.stopped) return false;
    const known = this.knownContentIn(file);
    if (known) {
      this.reopen(known, candidate, file);
      return true;
    }
    if (!candidate.matching) return false;
    if (hasCompressedMagic(file.head)) {
      this.compressedByContent.set(file.key, candidate.path);
      this.log('tail_file_compressed_skipped', { flow: this.flowId, path: candidate.path });
      return false;
    }
    const now = this.clock.now();
    const original = await this.copiedFrom(file);
    if (original) {
      // It starts like a file we tail: copytruncate's copy, whose truncate is yet to be seen?
      const firstSeen = this.possibleCopies.get(file.key) ?? now;
      this.possibleCopies.set(file.key, firstSeen);
      if (now - firstSeen < this.settings.rotateWaitMillis) return false;
      this.log('tail_copy_without_truncate', { flow: this.flowId, path: candidate.path, original: original.path });
    }
    this.possibleCopies.delete(file.key);
    const initial = !this.flowKnown && this.presentAtFirstRun.delete(candidate.path);
    const startOffset = initial && this.settings.initialPosition === 'END_OF_FILE' ? await startOfUnfinishedLine(file.handle, file.size) : 0;
    if (this.tracks.has(file.key) || this.stopped) return false;
    const track = this.newTrack(candidate.path, this.identityOf(file), file.head, startOffset);
    track.handle = file.handle;
    this.tracks.set(file.key, track);
    this.dependencies.checkpoints.changed();
    this.log('tail_file_opened', { flow: this.flowId, path: candidate.path, offset: startOffset });
    void this.read(track);
    return true;
  }

  /**
   * Content without an open file that `file` holds — same first bytes, and at least as long:
   * an orphan or ended file by inode first, else an orphan by its first bytes alone (a copy).
   */
  private knownContentIn(file: OpenedFile): TrackedFile | undefined {
    const holds = (track: TrackedFile) => file.size >= track.readOffset && startsWithFingerprint(file.head, track.identity);
    return (
      [...this.orphans, ...this.ended].find((track) => inodeKey(track.identity) === file.key && holds(track)) ??
      this.orphans.find((orphan) => orphan.identity.fingerprintBytes > 0 && holds(orphan))
    );
  }

  /** `file` holds `track`'s content: reading goes on from where it stopped. */
  private reopen(track: TrackedFile, candidate: Candidate, file: OpenedFile): void {
    const stored = this.storedOrphans.delete(track);
    const event = stored ? 'tail_file_resumed' : track.state === 'ended' ? 'tail_file_reopened' : 'tail_copy_adopted';
    this.orphans = this.orphans.filter((other) => other !== track);
    this.ended = this.ended.filter((other) => other !== track);
    const identity = this.identityOf(file);
    track.identity.dev = identity.dev;
    track.identity.ino = identity.ino;
    track.path = candidate.path;
    track.handle = file.handle;
    track.setHead(file.head);
    track.setState(candidate.matching ? 'live' : 'rotated');
    this.tracks.set(file.key, track);
    this.possibleCopies.delete(file.key);
    this.presentAtFirstRun.delete(candidate.path);
    this.dependencies.checkpoints.changed();
    this.log(event, { flow: this.flowId, path: candidate.path, offset: track.readOffset });
    void this.read(track);
  }

  /**
   * The live file `file` looks like a copy of: its first bytes begin with what the live file's
   * content began with, or agree with what the live file holds right now (a copy made while a
   * read of the live file is under way, before the source has seen those bytes).
   */
  private async copiedFrom(file: OpenedFile): Promise<TrackedFile | undefined> {
    for (const track of this.tracks.values()) {
      if (track.state !== 'live' || !track.handle) continue;
      if (track.head.length > 0 && file.head.length >= track.head.length && file.head.subarray(0, track.head.length).equals(track.head)) return track;
      try {
        if (sameStart(file.head, await readHead(track.handle))) return track;
      } catch {
        // the live file's own read reports its errors
      }
    }
    return undefined;
  }

  /**
   * Opens a candidate. A matching file that cannot be opened is reported (`TAIL_FILE_UNREADABLE`
   * for permissions) and tried again at every scan; a non-matching one, only looked at for
   * orphans, is passed over in silence.
   */
  private async openCandidate(candidate: Candidate): Promise<OpenedFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await this.openFile(candidate.path);
    } catch (error) {
      if (candidate.matching && systemErrorCode(error) !== 'ENOENT') {
        const code = isPermissionError(error) ? tailErrorCodes.fileUnreadable : tailErrorCodes.readFailed;
        this.unreadable.set(candidate.path, this.report(candidate.path, code, `cannot open ${candidate.path}: ${(error as Error).message}`, error));
      }
      return undefined;
    }
    let file: OpenedFile;
    try {
      file = await this.describe(handle);
    } catch (error) {
      await handle.close();
      if (candidate.matching) this.report(candidate.path, tailErrorCodes.readFailed, `cannot read ${candidate.path}: ${(error as Error).message}`, error);
      return undefined;
    }
    if (this.unreadable.delete(candidate.path)) {
      this.reportedErrors.delete(candidate.path);
      this.log('tail_file_readable', { flow: this.flowId, path: candidate.path });
    }
    return file;
  }

  private async describe(handle: FileHandle): Promise<OpenedFile> {
    const stats = await handle.stat({ bigint: true });
    const size = Number(stats.size);
    return { handle, key: inodeKey(stats), size, head: await readHead(handle) };
  }

  private identityOf(file: OpenedFile): FileIdentity {
    const [dev, ino] = file.key.split(':') as [string, string];
    return { dev, ino, fingerprint: fingerprintOf(file.head), fingerprintBytes: file.head.length };
  }

  private async ensureWatcher(): Promise<void> {
    const { directory } = this.settings.pattern;
    const directoryKey = inodeKey(await stat(directory, { bigint: true }));
    if (this.watcher && this.watchedDirectory === directoryKey) return;
    // A new directory at the same path (deleted and made again): the old watch sees nothing.
    await this.watcher?.close();
    this.watchedDirectory = directoryKey;
    this.watcher = watchDirectory(
      directory,
      (kind, name) => this.onDirectoryEvent(kind, name),
      (error) => this.report(directory, tailErrorCodes.directoryUnreadable, `cannot watch ${directory} (polling goes on): ${error.message}`, error),
    );
    await this.watcher.ready;
  }

  /** Records a problem; logs it and calls `onError` only when it differs from the last one reported for `path`. */
  private report(path: string, code: TailError['code'], message: string, cause: unknown): TailError {
    const error = new TailError(code, message, path, { cause });
    this.lastError = error;
    if (this.reportedErrors.get(path) !== `${code} ${message}`) {
      this.reportedErrors.set(path, `${code} ${message}`);
      this.log('tail_error', { flow: this.flowId, code, path, error: message });
      this.dependencies.onError?.(error);
    }
    return error;
  }
}

/** END_OF_FILE starts after the file's last '\n' (Kinesis Agent: the last record boundary). */
async function startOfUnfinishedLine(handle: FileHandle, size: number): Promise<number> {
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - TAIL_SEARCH_CHUNK_BYTES);
    const bytes = await readAt(handle, start, end - start);
    const newline = bytes.lastIndexOf(NEWLINE);
    if (newline !== -1) return start + newline + 1;
    end = start;
  }
  return 0;
}

export function createTailSource(spec: TailSourceSpec, dependencies: TailSourceDependencies): TailSource {
  return new TailSource(spec, dependencies);
}
