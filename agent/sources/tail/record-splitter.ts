/**
 * Turns a file's bytes into records, as the Kinesis Agent's parser does (AbstractParser,
 * SingleLineSplitter, RegexSplitter, AbstractRecord.truncate):
 *
 * - A record is a line: the bytes up to and including '\n'. Nothing else ends a line, so
 *   "\r\n" files keep their '\r' in the data, and bytes are never decoded: binary and invalid
 *   UTF-8 pass through unchanged.
 * - A last line without its '\n' waits for it (a writer may be mid-line). Only when a file has
 *   ended for good (rotated away and idle, see the source) does `flushAtEnd` make it a record —
 *   the Kinesis Agent drops it instead.
 * - `skipHeaderLines`: that many lines are skipped when a file is read from its first byte.
 * - `multiLineStartPattern`: a record starts at a line that matches the regular expression at
 *   its start (Java's `lookingAt`; the line's terminator is not part of what is matched) and
 *   takes every following line that does not. Lines before the first match form a record of
 *   their own. A record's end is known when the next one starts; `flushPendingRecord` ends it
 *   early when the file has been quiet (see the source's `multiLineFlushMillis`).
 * - A record longer than `maxRecordBytes` is cut: its first `maxRecordBytes - terminator` bytes
 *   and then `truncatedRecordTerminator`; the rest of it is dropped. Memory stays bounded: at
 *   most `maxRecordBytes` of a record is ever held.
 */

export interface SplitRecord {
  data: Buffer;
  /** File offset of the record's first byte. */
  startOffset: number;
  /** File offset just past the record, dropped bytes included: where reading resumes after it. */
  endOffset: number;
  truncated: boolean;
}

export interface RecordSplitterOptions {
  /** Largest record the target takes (its record limit minus room for the partition key). */
  maxRecordBytes: number;
  truncatedRecordTerminator: Buffer;
  multiLineStartPattern?: RegExp;
  /** Lines to skip before the first record (0 unless reading starts at the file's first byte). */
  skipHeaderLines: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Bytes of one line or record as they arrive, holding at most `limit` of them. */
class Accumulator {
  private parts: Buffer[] = [];
  private held = 0;
  /** Total length, held or not. */
  length = 0;
  startOffset = 0;

  constructor(private readonly limit: number) {}

  get isEmpty(): boolean {
    return this.length === 0;
  }

  append(bytes: Buffer): void {
    if (this.length === 0) this.parts = [];
    this.length += bytes.length;
    const room = this.limit - this.held;
    if (room <= 0) return;
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, room);
    this.parts.push(kept);
    this.held += kept.length;
  }

  /** The held bytes (all of them when `length <= limit`), and a fresh start. */
  take(): Buffer {
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    this.length = 0;
    return data;
  }
}

export class RecordSplitter {
  private offset: number;
  private headerLinesLeft: number;
  /** The line being read (it has no '\n' yet). */
  private readonly line: Accumulator;
  /** Multiline: the complete lines of the record being assembled. */
  private readonly record: Accumulator;
  private readonly maxRecordBytes: number;
  private readonly terminator: Buffer;
  private readonly startPattern: RegExp | undefined;

  constructor(options: RecordSplitterOptions, startOffset: number) {
    if (options.truncatedRecordTerminator.length >= options.maxRecordBytes) {
      throw new RangeError(`truncatedRecordTerminator (${options.truncatedRecordTerminator.length} bytes) must be shorter than the record limit (${options.maxRecordBytes} bytes)`);
    }
    this.offset = startOffset;
    this.headerLinesLeft = options.skipHeaderLines;
    this.maxRecordBytes = options.maxRecordBytes;
    this.terminator = options.truncatedRecordTerminator;
    this.startPattern = options.multiLineStartPattern && new RegExp(options.multiLineStartPattern.source, withoutGlobal(options.multiLineStartPattern.flags) + 'y');
    this.line = new Accumulator(this.maxRecordBytes);
    this.record = new Accumulator(this.maxRecordBytes);
  }

  /** Multiline: complete lines wait for the next start line. */
  get hasPendingRecord(): boolean {
    return !this.record.isEmpty;
  }

  /** Takes the next bytes of the file; returns the records they complete, in order. */
  push(chunk: Buffer): SplitRecord[] {
    const records: SplitRecord[] = [];
    let position = 0;
    while (this.headerLinesLeft > 0 && position < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, position);
      if (newline === -1) position = chunk.length;
      else {
        position = newline + 1;
        this.headerLinesLeft--;
      }
    }
    while (position < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, position);
      if (newline === -1) {
        if (this.line.isEmpty) this.line.startOffset = this.offset + position;
        this.line.append(chunk.subarray(position));
        break;
      }
      const end = newline + 1;
      if (this.line.isEmpty) {
        // The common case, a whole line inside one chunk: no copy.
        this.takeLine(chunk.subarray(position, end), this.offset + position, end - position, records);
      } else {
        this.line.append(chunk.subarray(position, end));
        const { startOffset, length } = this.line;
        this.takeLine(this.line.take(), startOffset, length, records);
      }
      position = end;
    }
    this.offset += chunk.length;
    return records;
  }

  /** Multiline: ends the record being assembled, if no partial line could still belong to it. */
  flushPendingRecord(): SplitRecord | undefined {
    if (this.record.isEmpty || !this.line.isEmpty) return undefined;
    return this.finishRecord();
  }

  /** The file has ended for good: what is held becomes records, an unterminated last line too. */
  flushAtEnd(): SplitRecord[] {
    const records: SplitRecord[] = [];
    if (!this.line.isEmpty) {
      const { startOffset, length } = this.line;
      this.takeLine(this.line.take(), startOffset, length, records);
    }
    const last = this.record.isEmpty ? undefined : this.finishRecord();
    if (last) records.push(last);
    return records;
  }

  /** One complete line: `data` holds its first bytes (all of them when `length <= maxRecordBytes`). */
  private takeLine(data: Buffer, startOffset: number, length: number, records: SplitRecord[]): void {
    if (!this.startPattern) {
      records.push(this.toRecord(data, startOffset, length));
      return;
    }
    if (!this.record.isEmpty && this.isStartLine(data)) records.push(this.finishRecord());
    if (this.record.isEmpty) this.record.startOffset = startOffset;
    this.record.append(data);
    // Bytes of an overlong line that were never held still count towards the record's length.
    this.record.length += length - data.length;
  }

  private finishRecord(): SplitRecord {
    const { startOffset, length } = this.record;
    return this.toRecord(this.record.take(), startOffset, length);
  }

  private toRecord(data: Buffer, startOffset: number, length: number): SplitRecord {
    const endOffset = startOffset + length;
    if (length <= this.maxRecordBytes) return { data, startOffset, endOffset, truncated: false };
    const keep = this.maxRecordBytes - this.terminator.length;
    return { data: Buffer.concat([data.subarray(0, keep), this.terminator]), startOffset, endOffset, truncated: true };
  }

  private isStartLine(line: Buffer): boolean {
    let end = line.length;
    if (end > 0 && line[end - 1] === NEWLINE) end--;
    if (end > 0 && line[end - 1] === CARRIAGE_RETURN) end--;
    const pattern = this.startPattern!;
    pattern.lastIndex = 0;
    // Decoded only to match; the data stays bytes.
    return pattern.test(line.toString('utf8', 0, end));
  }
}

function withoutGlobal(flags: string): string {
  return flags.replace(/[gy]/g, '');
}
