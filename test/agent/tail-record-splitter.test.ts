/**
 * The tail source's record splitter on its own: lines as the Kinesis Agent cuts them (with their
 * '\n', '\r' kept), header lines, multiline records, truncation with the terminator, and the
 * same records whatever the chunk boundaries.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordSplitter, type RecordSplitterOptions, type SplitRecord } from '../../agent/sources/tail/record-splitter.js';

const defaults: RecordSplitterOptions = { maxRecordBytes: 1024, truncatedRecordTerminator: Buffer.from('\n'), skipHeaderLines: 0 };

/** Feeds `input` in chunks of `chunkSize` bytes (the whole at once by default). */
function split(input: Buffer | string, options: Partial<RecordSplitterOptions> = {}, chunkSize = Infinity, startOffset = 0): { records: SplitRecord[]; splitter: RecordSplitter } {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const splitter = new RecordSplitter({ ...defaults, ...options }, startOffset);
  const records: SplitRecord[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(chunkSize, bytes.length)) records.push(...splitter.push(bytes.subarray(i, i + chunkSize)));
  return { records, splitter };
}

const texts = (records: SplitRecord[]) => records.map((record) => record.data.toString('latin1'));

describe('record splitter', () => {
  it('cuts lines after each newline, keeps \\r, holds an unterminated last line', () => {
    const { records, splitter } = split('one\ntwo\r\n\nthree');
    expect(texts(records)).toEqual(['one\n', 'two\r\n', '\n']);
    expect(records.map((r) => [r.startOffset, r.endOffset])).toEqual([
      [0, 4],
      [4, 9],
      [9, 10],
    ]);
    const rest = splitter.push(Buffer.from(' more\n'));
    expect(texts(rest)).toEqual(['three more\n']);
    expect(rest[0]!.startOffset).toBe(10);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}\n`).join('');
    const whole = split(lines, { skipHeaderLines: 3 }).records;
    expect(whole).toHaveLength(197);
    for (const chunkSize of [1, 2, 7, 64, 1000]) {
      const chunked = split(lines, { skipHeaderLines: 3 }, chunkSize).records;
      expect(texts(chunked)).toEqual(texts(whole));
      expect(chunked.map((r) => r.endOffset)).toEqual(whole.map((r) => r.endOffset));
    }
  });

  it('passes binary and invalid UTF-8 through as bytes', () => {
    const payload = Buffer.concat([randomBytes(300).map((b) => (b === 0x0a ? 0x0b : b)), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0d, 0x0a])]);
    const { records } = split(Buffer.concat([payload, payload]), {}, 17);
    expect(records).toHaveLength(2);
    for (const record of records) expect(record.data.equals(payload)).toBe(true);
  });

  it('skips header lines, even when they span chunks', () => {
    const { records } = split('h1,h2\nunits,units\n1,2\n3,4\n', { skipHeaderLines: 2 }, 3);
    expect(texts(records)).toEqual(['1,2\n', '3,4\n']);
    expect(records[0]!.startOffset).toBe('h1,h2\nunits,units\n'.length);
  });

  it('cuts an overlong line to the limit with the terminator and drops the rest of it', () => {
    const long = 'A'.repeat(50) + '\n';
    for (const chunkSize of [Infinity, 5]) {
      const { records } = split(`short\n${long}after\n`, { maxRecordBytes: 16, truncatedRecordTerminator: Buffer.from('~~\n') }, chunkSize);
      expect(texts(records)).toEqual(['short\n', 'A'.repeat(13) + '~~\n', 'after\n']);
      expect(records[1]!.truncated).toBe(true);
      expect(records[1]!.data).toHaveLength(16);
      // The record stands for the whole line: reading resumes after it, not inside it.
      expect(records[1]!.endOffset).toBe(6 + long.length);
    }
  });

  it('keeps a line of exactly the limit whole', () => {
    const { records } = split('x'.repeat(15) + '\n', { maxRecordBytes: 16 });
    expect(records[0]!.truncated).toBe(false);
    expect(texts(records)).toEqual(['x'.repeat(15) + '\n']);
  });

  it('joins lines into multiline records at the start pattern', () => {
    const input = ['  orphan continuation', '2026-01-01 first', '  at a', '  at b', '2026-01-01 second', '2026-01-01 third', '  at c', ''].join('\n');
    const options = { multiLineStartPattern: /\d{4}-\d{2}-\d{2} / };
    for (const chunkSize of [Infinity, 4]) {
      const { records, splitter } = split(input, options, chunkSize);
      expect(texts(records)).toEqual(['  orphan continuation\n', '2026-01-01 first\n  at a\n  at b\n', '2026-01-01 second\n']);
      // The last record's end is unknown until the next start line, or until it is flushed.
      expect(splitter.hasPendingRecord).toBe(true);
      expect(texts([splitter.flushPendingRecord()!])).toEqual(['2026-01-01 third\n  at c\n']);
      expect(splitter.hasPendingRecord).toBe(false);
    }
  });

  it('matches the start pattern at the start of the line only, without its terminator (Java lookingAt)', () => {
    const { records, splitter } = split('START\r\nx START\nSTART\n', { multiLineStartPattern: /START$/ });
    expect(texts(records)).toEqual(['START\r\nx START\n']);
    expect(texts(splitter.flushAtEnd())).toEqual(['START\n']);
  });

  it('does not flush a multiline record while a partial line may still continue it', () => {
    const { splitter } = split('2026 a\n  at', { multiLineStartPattern: /\d{4} / });
    expect(splitter.flushPendingRecord()).toBeUndefined();
    expect(texts(splitter.flushAtEnd())).toEqual(['2026 a\n  at']);
  });

  it('truncates a multiline record at the limit and keeps its end offset', () => {
    const input = '2026 a\n' + '  at xxxxxxxxxx\n'.repeat(5) + '2026 b\n';
    const { records } = split(input, { multiLineStartPattern: /\d{4} /, maxRecordBytes: 20 }, 3);
    expect(texts(records)).toEqual([input.slice(0, 19) + '\n']);
    expect(records[0]!.truncated).toBe(true);
    expect(records[0]!.endOffset).toBe(input.length - '2026 b\n'.length);
  });

  it('flushes an unterminated last line when the file has ended', () => {
    const { splitter } = split('a\nb', {}, Infinity, 100);
    const records = splitter.flushAtEnd();
    expect(texts(records)).toEqual(['b']);
    expect(records[0]!.endOffset).toBe(103);
    expect(splitter.flushAtEnd()).toEqual([]);
  });
});
