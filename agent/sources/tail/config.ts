/**
 * What a file flow's tail source is told. The first group are the Kinesis Agent's flow keys
 * (agent/config.ts reads them from agent.json); the second are Riffle's timings, with defaults.
 */
import type { FileSourceConfig } from '../../config.js';
import { parseFilePattern, type FilePattern } from './file-pattern.js';
import { TailError, tailErrorCodes } from './errors.js';

export interface TailSourceSpec {
  /** Stable name of the flow; its checkpoints are stored under it. */
  flowId: string;
  /**
   * Files to tail: an absolute path whose last component may be a glob, e.g.
   * `/var/log/app/*.log` or `/var/log/app.log*` (Java glob syntax, as the Kinesis Agent). Every
   * matching file is tailed; compressed ones (.gz, .bz2, .zip, .xz, .zst, by name or content)
   * are skipped. A rotated file keeps being read, by identity, until it has ended — whether or
   * not its new name matches.
   */
  filePattern: string;
  /**
   * Where to start in files that were already there when the flow ran for the first time (no
   * checkpoints yet): their first byte or their end. Files that appear later, and files without
   * a checkpoint once the flow has checkpoints, are read from their first byte. Default (Kinesis
   * Agent): END_OF_FILE.
   */
  initialPosition: 'START_OF_FILE' | 'END_OF_FILE';
  /** Lines to skip at the top of each file (CSV headers). Default 0. */
  skipHeaderLines: number;
  /**
   * A regular expression that matches the first line of a record; lines that do not match
   * join the record before them (stack traces). Default: every line is a record.
   */
  multiLineStartPattern?: string;
  /** Ends a record cut at the record limit. Default (Kinesis Agent): "\n". */
  truncatedRecordTerminator: string;
  /** The record limit: the target's per-record quota minus room for the partition key. */
  maxRecordBytes: number;

  /**
   * How long a file that was rotated away or deleted is still watched for late writes once it
   * stops growing, before its last unterminated line is sent and it is closed. Default 5 s
   * (Fluent Bit's tail `Rotate_Wait`).
   */
  rotateWaitMillis?: number;
  /** Multiline: a record whose file is quiet this long is sent without waiting for the next start line. Default 4 s (Fluent Bit's `Multiline_Flush`). */
  multiLineFlushMillis?: number;
  /** Full rescans of the directory, a safety net for missed file system events. Default 10 s (Kinesis Agent `maxTimeBetweenFileTrackerRefreshMillis`). */
  scanIntervalMillis?: number;
  /** Housekeeping period: rotation waits, multiline flushes, a poll of open files in case an event was missed. Default 1 s. */
  pollIntervalMillis?: number;
  /** Bytes read from a file at a time. Default 256 KiB. */
  readChunkBytes?: number;
}

export interface TailSettings {
  flowId: string;
  filePattern: string;
  pattern: FilePattern;
  initialPosition: 'START_OF_FILE' | 'END_OF_FILE';
  skipHeaderLines: number;
  multiLineStartPattern: RegExp | undefined;
  truncatedRecordTerminator: Buffer;
  maxRecordBytes: number;
  rotateWaitMillis: number;
  multiLineFlushMillis: number;
  scanIntervalMillis: number;
  pollIntervalMillis: number;
  readChunkBytes: number;
}

// Fluent Bit tail input defaults: Rotate_Wait 5 s, Multiline_Flush 4 s.
const DEFAULT_ROTATE_WAIT_MILLIS = 5_000;
const DEFAULT_MULTILINE_FLUSH_MILLIS = 4_000;
// Kinesis Agent FileFlow.DEFAULT_MAX_TIME_BETWEEN_FILE_TRACKER_REFRESH_MILLIS.
const DEFAULT_SCAN_INTERVAL_MILLIS = 10_000;
const DEFAULT_POLL_INTERVAL_MILLIS = 1_000;
/** Large sequential reads are cheap on an SD card; records share the chunk's memory. */
const DEFAULT_READ_CHUNK_BYTES = 256 * 1024;

/** A file flow of agent.json as a TailSourceSpec; `maxRecordBytes` comes from the flow's target. */
export function tailSpecFromFlow(flowId: string, source: FileSourceConfig, maxRecordBytes: number): TailSourceSpec {
  return {
    flowId,
    filePattern: source.filePattern,
    initialPosition: source.initialPosition,
    skipHeaderLines: source.skipHeaderLines,
    truncatedRecordTerminator: source.truncatedRecordTerminator,
    maxRecordBytes,
    ...(source.multiLineStartPattern !== undefined ? { multiLineStartPattern: source.multiLineStartPattern } : {}),
  };
}

export function resolveTailSpec(spec: TailSourceSpec): TailSettings {
  const invalid = (key: string, why: string) => new TailError(tailErrorCodes.invalidOption, `flow ${spec.flowId}: ${key} ${why}`);
  const terminator = Buffer.from(spec.truncatedRecordTerminator, 'utf8');
  if (!Number.isSafeInteger(spec.maxRecordBytes) || spec.maxRecordBytes < 2) throw invalid('maxRecordBytes', `must be an integer of at least 2, got ${spec.maxRecordBytes}`);
  // Kinesis Agent FileFlow: the terminator must be shorter than the record limit.
  if (terminator.length >= spec.maxRecordBytes) throw invalid('truncatedRecordTerminator', `must be shorter than the record limit (${spec.maxRecordBytes} bytes)`);
  if (!Number.isSafeInteger(spec.skipHeaderLines) || spec.skipHeaderLines < 0) throw invalid('skipHeaderLines', `must be a non-negative integer, got ${spec.skipHeaderLines}`);
  let multiLineStartPattern: RegExp | undefined;
  if (spec.multiLineStartPattern !== undefined) {
    try {
      multiLineStartPattern = new RegExp(spec.multiLineStartPattern);
    } catch (error) {
      throw invalid('multiLineStartPattern', `is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  const positive = (key: keyof TailSourceSpec, fallback: number): number => {
    const value = spec[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw invalid(key, `must be a positive integer, got ${String(value)}`);
    return value;
  };
  return {
    flowId: spec.flowId,
    filePattern: spec.filePattern,
    pattern: parseFilePattern(spec.filePattern),
    initialPosition: spec.initialPosition,
    skipHeaderLines: spec.skipHeaderLines,
    multiLineStartPattern,
    truncatedRecordTerminator: terminator,
    maxRecordBytes: spec.maxRecordBytes,
    rotateWaitMillis: positive('rotateWaitMillis', DEFAULT_ROTATE_WAIT_MILLIS),
    multiLineFlushMillis: positive('multiLineFlushMillis', DEFAULT_MULTILINE_FLUSH_MILLIS),
    scanIntervalMillis: positive('scanIntervalMillis', DEFAULT_SCAN_INTERVAL_MILLIS),
    pollIntervalMillis: positive('pollIntervalMillis', DEFAULT_POLL_INTERVAL_MILLIS),
    readChunkBytes: positive('readChunkBytes', DEFAULT_READ_CHUNK_BYTES),
  };
}
