/**
 * The tail checkpoints of every file flow, in one file under the agent's state dir (the
 * Kinesis Agent's `checkpointFile` names it; theirs is SQLite, ours is JSON).
 *
 * On-disk format (version 1):
 *   { "format": "riffle-agent-checkpoints", "version": 1,
 *     "flows": { "<flow id>": { "updatedAt": <ms>, "files": [
 *       { "path", "dev", "ino", "fingerprint", "fingerprintBytes", "offset" } ] } } }
 * `offset`: every byte before it has been delivered (settled), see ack-window.ts.
 *
 * Invariants:
 * - The file is replaced atomically (shared/durable-file.ts): written to `<file>.tmp`, fsynced,
 *   renamed over the old one, and the directory fsynced. After a power cut it holds the old or
 *   the new checkpoints, whole.
 * - Writes happen a while after a change (`writeDelayMillis`), on `flush()` and on `close()` —
 *   never per line: offsets change with every acknowledged batch.
 * - A flow that is not running keeps its entry as loaded (another process of the config may
 *   start it later) until it is older than `ttlMillis` (the Kinesis Agent's
 *   checkpointTimeToLiveDays, default 7).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, systemSchedule, type Clock, type Schedule } from '../../../shared/clock.js';
import { replaceFileDurably } from '../../../shared/durable-file.js';
import { TailError, systemErrorCode, tailErrorCodes } from './errors.js';

export interface FileCheckpoint {
  /** Where the file was last seen (informational: files are matched by identity). */
  path: string;
  dev: string;
  ino: string;
  fingerprint: string;
  fingerprintBytes: number;
  offset: number;
}

interface FlowEntry {
  updatedAt: number;
  files: FileCheckpoint[];
}

const FORMAT = 'riffle-agent-checkpoints';
const VERSION = 1;
/**
 * ext4 commits its journal every 5 s by default (`commit=5`); syncing checkpoints more often
 * wears an SD card for little gain — after a crash, at most this much delivered data is re-sent.
 */
const DEFAULT_WRITE_DELAY_MILLIS = 5_000;
// Kinesis Agent: checkpointTimeToLiveDays, default 7.
const DEFAULT_TTL_MILLIS = 7 * 24 * 3600 * 1000;

export interface CheckpointStoreOptions {
  clock?: Clock;
  schedule?: Schedule;
  /** How long after a change the checkpoints are written. Default 5 s. */
  writeDelayMillis?: number;
  /** How long the entry of a flow that is not running is kept. Default 7 days. */
  ttlMillis?: number;
  /** Write failures (`TAIL_CHECKPOINT_WRITE_FAILED`); the next write retries. */
  onError?: (error: TailError) => void;
}

export class CheckpointStore {
  private readonly live = new Map<string, () => FileCheckpoint[]>();
  private cancelWrite: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private closed = false;
  private readonly clock: Clock;
  private readonly schedule: Schedule;
  private readonly writeDelayMillis: number;
  private readonly ttlMillis: number;

  private constructor(
    readonly file: string,
    private readonly stored: Map<string, FlowEntry>,
    private readonly options: CheckpointStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.schedule = options.schedule ?? systemSchedule;
    this.writeDelayMillis = options.writeDelayMillis ?? DEFAULT_WRITE_DELAY_MILLIS;
    this.ttlMillis = options.ttlMillis ?? DEFAULT_TTL_MILLIS;
  }

  /** Loads `file` (none yet: no checkpoints). Throws `TAIL_CHECKPOINT_UNREADABLE` for a file that is not ours. */
  static async open(file: string, options: CheckpointStoreOptions = {}): Promise<CheckpointStore> {
    await mkdir(dirname(file), { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (systemErrorCode(error) !== 'ENOENT') throw new TailError(tailErrorCodes.checkpointUnreadable, `cannot read checkpoint file: ${(error as Error).message}`, file, { cause: error });
    }
    return new CheckpointStore(file, text === undefined ? new Map() : parseCheckpoints(text, file), options);
  }

  /** A flow's checkpoints as stored; undefined when the flow has never been checkpointed. */
  saved(flowId: string): FileCheckpoint[] | undefined {
    return this.stored.get(flowId)?.files.map((entry) => ({ ...entry }));
  }

  /** A running flow: `snapshot` gives its current checkpoints at every write. */
  attach(flowId: string, snapshot: () => FileCheckpoint[]): void {
    this.live.set(flowId, snapshot);
    this.changed();
  }

  /** Something moved: write within `writeDelayMillis`. */
  changed(): void {
    this.dirty = true;
    if (this.cancelWrite || this.closed) return;
    this.cancelWrite = this.schedule(this.writeDelayMillis, () => {
      this.cancelWrite = undefined;
      void this.flush();
    });
  }

  /** Writes now if anything changed since the last write. */
  flush(): Promise<void> {
    this.cancelWrite?.();
    this.cancelWrite = undefined;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.write();
      } catch (error) {
        this.dirty = true;
        this.options.onError?.(new TailError(tailErrorCodes.checkpointWriteFailed, `cannot write checkpoint file: ${(error as Error).message}`, this.file, { cause: error }));
      }
    });
    return this.writing;
  }

  /** Final write; later changes are not written. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async write(): Promise<void> {
    const now = this.clock.now();
    for (const [flowId, snapshot] of this.live) this.stored.set(flowId, { updatedAt: now, files: snapshot() });
    for (const [flowId, entry] of this.stored) {
      if (!this.live.has(flowId) && now - entry.updatedAt > this.ttlMillis) this.stored.delete(flowId);
    }
    const content = { format: FORMAT, version: VERSION, flows: Object.fromEntries(this.stored) };
    await replaceFileDurably(this.file, JSON.stringify(content), { mode: 0o600 });
  }
}

function parseCheckpoints(text: string, file: string): Map<string, FlowEntry> {
  const notOurs = (why: string) => new TailError(tailErrorCodes.checkpointUnreadable, `not a Riffle checkpoint file (${why})`, file);
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    throw notOurs('not JSON');
  }
  const top = content as { format?: unknown; version?: unknown; flows?: unknown } | null;
  if (typeof top !== 'object' || top === null || top.format !== FORMAT) throw notOurs(`no "format": "${FORMAT}"`);
  if (top.version !== VERSION) throw notOurs(`version ${JSON.stringify(top.version)}, expected ${VERSION}`);
  if (typeof top.flows !== 'object' || top.flows === null) throw notOurs('no "flows" object');
  const flows = new Map<string, FlowEntry>();
  for (const [flowId, raw] of Object.entries(top.flows as Record<string, unknown>)) {
    const entry = raw as { updatedAt?: unknown; files?: unknown } | null;
    if (typeof entry?.updatedAt !== 'number' || !Array.isArray(entry.files)) throw notOurs(`flow ${JSON.stringify(flowId)} is malformed`);
    if (!entry.files.every(isFileCheckpoint)) throw notOurs(`flow ${JSON.stringify(flowId)} has a malformed file entry`);
    flows.set(flowId, { updatedAt: entry.updatedAt, files: entry.files });
  }
  return flows;
}

function isFileCheckpoint(value: unknown): value is FileCheckpoint {
  const entry = value as Partial<Record<keyof FileCheckpoint, unknown>> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.path === 'string' &&
    typeof entry.dev === 'string' &&
    typeof entry.ino === 'string' &&
    typeof entry.fingerprint === 'string' &&
    typeof entry.fingerprintBytes === 'number' &&
    typeof entry.offset === 'number' &&
    Number.isSafeInteger(entry.offset) &&
    entry.offset >= 0
  );
}
