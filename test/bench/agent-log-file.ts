/**
 * The file benchmark's input: an application log of fixed-length lines, written in full before
 * the agent starts. Lines look like a web service's access log — a timestamp that moves on, a
 * few hosts, methods, paths and statuses, a random request id — so zstd finds what it finds in
 * real logs (about 4× at level 3) rather than all-zero or all-random bytes.
 *
 * While writing, it computes what the stream must hold afterwards: the record count, the data
 * bytes and the order-independent checksum of shard-tally.ts (the sum of the CRC-32 of each
 * record's Data as base64), since each line, newline included, is one record.
 */
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { ShardTally } from './shard-tally.js';

export interface BenchLog {
  path: string;
  lines: number;
  bytes: number;
  /** What reading the whole stream back must add up to, over all shards. */
  expected: ShardTally;
}

/** Lines are built into chunks of this size and written with one call each. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Distinct line bodies; each line takes one at random, behind its own timestamp, id and number. */
const BODY_POOL_SIZE = 4096;

// Every line starts `<ISO timestamp> req=<16 hex> seq=<10 digits> `, written byte by byte at
// fixed places: building each line as a JS string would make generating the log slower than
// the agent under test reads it.
const TIMESTAMP_BYTES = 24;
const REQUEST_ID_AT = TIMESTAMP_BYTES + ' req='.length;
const SEQUENCE_AT = REQUEST_ID_AT + 16 + ' seq='.length;
const SEQUENCE_DIGITS = 10;
const BODY_AT = SEQUENCE_AT + SEQUENCE_DIGITS + 1;
/** Room for the fixed prefix and some body. */
export const MIN_LINE_BYTES = BODY_AT + 40;

const hosts = ['pi-gw-01', 'pi-gw-02', 'pi-gw-07', 'edge-rack-3'];
const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const paths = ['/api/v1/sensors/{id}/readings', '/api/v1/devices/{id}', '/api/v1/devices/{id}/config', '/healthz', '/api/v1/alerts?since={id}'];
const statuses = ['200', '200', '200', '200', '201', '204', '304', '404', '500'];
const messages = ['reading stored', 'device updated', 'config unchanged', 'cache hit', 'not found', 'upstream timeout after retry'];
const agents = ['riffle-sensor/2.3.1 (linux; armv7l)', 'curl/7.88.1', 'Mozilla/5.0 (X11; Linux aarch64) Firefox/128.0', 'okhttp/4.12.0'];
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const SPACE = 0x20;
const NEWLINE = 0x0a;
const DIGIT_ZERO = 0x30;

/** Writes about `targetBytes` (whole lines of `lineBytes`, newline included) to `path`. */
export async function writeBenchLog(path: string, targetBytes: number, lineBytes: number): Promise<BenchLog> {
  if (lineBytes < MIN_LINE_BYTES) throw new Error(`lines must be at least ${MIN_LINE_BYTES} bytes, got ${lineBytes}`);
  const lines = Math.max(1, Math.floor(targetBytes / lineBytes));
  const linesPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / lineBytes));
  const expected: ShardTally = { records: lines, dataBytes: lines * lineBytes, crcSum: 0 };
  const random = xorshift32(0x5eed);
  const bodyBytes = lineBytes - 1 - BODY_AT;
  const bodies = makeBodyPool(bodyBytes, random);
  // About 2,000 lines per second of log time.
  const startMs = Date.UTC(2026, 10, 23, 20, 0, 0);
  let timestampMs = Number.NaN;
  const timestamp = Buffer.alloc(TIMESTAMP_BYTES);
  const file = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(linesPerChunk * lineBytes);
    for (let written = 0; written < lines; ) {
      const count = Math.min(linesPerChunk, lines - written);
      for (let i = 0; i < count; i++) {
        const sequence = written + i;
        const at = i * lineBytes;
        const lineMs = startMs + Math.floor(sequence / 2);
        if (lineMs !== timestampMs) {
          timestampMs = lineMs;
          timestamp.write(new Date(lineMs).toISOString(), 'latin1');
        }
        timestamp.copy(chunk, at);
        chunk.write(' req=', at + TIMESTAMP_BYTES, 'latin1');
        writeHex(chunk, at + REQUEST_ID_AT, random());
        writeHex(chunk, at + REQUEST_ID_AT + 8, random());
        chunk.write(' seq=', at + REQUEST_ID_AT + 16, 'latin1');
        writeDecimal(chunk, at + SEQUENCE_AT, SEQUENCE_DIGITS, sequence);
        chunk[at + BODY_AT - 1] = SPACE;
        const body = random() % BODY_POOL_SIZE;
        bodies.copy(chunk, at + BODY_AT, body * bodyBytes, (body + 1) * bodyBytes);
        chunk[at + lineBytes - 1] = NEWLINE;
        expected.crcSum = (expected.crcSum + crc32(chunk.toString('base64', at, at + lineBytes))) >>> 0;
      }
      await file.write(chunk, 0, count * lineBytes);
      written += count;
    }
  } finally {
    await file.close();
  }
  return { path, lines, bytes: lines * lineBytes, expected };
}

/** BODY_POOL_SIZE bodies of exactly `bodyBytes`, cut or padded with spaces. */
function makeBodyPool(bodyBytes: number, random: () => number): Buffer {
  const pick = <T>(list: readonly T[]): T => list[random() % list.length]!;
  const pool = Buffer.alloc(BODY_POOL_SIZE * bodyBytes, SPACE);
  for (let i = 0; i < BODY_POOL_SIZE; i++) {
    const id = String(random() % 10_000);
    const body = `${pick(hosts)} sensord[${1000 + (random() % 8)}]: INFO ${pick(methods)} ${pick(paths).replace('{id}', id)} status=${pick(statuses)} bytes=${random() % 100_000} ms=${random() % 250} msg="${pick(messages)}" ua="${pick(agents)}"`;
    pool.write(body, i * bodyBytes, bodyBytes, 'latin1');
  }
  return pool;
}

/** Eight lowercase hex digits of a 32-bit value. */
function writeHex(target: Buffer, at: number, value: number): void {
  for (let digit = 7; digit >= 0; digit--) {
    target[at + digit] = HEX_DIGITS[value & 0xf]!;
    value >>>= 4;
  }
}

/** `value` as exactly `digits` decimal digits, zero-padded. */
function writeDecimal(target: Buffer, at: number, digits: number, value: number): void {
  for (let digit = digits - 1; digit >= 0; digit--) {
    target[at + digit] = DIGIT_ZERO + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** Marsaglia's xorshift32: the same log on every run, so runs compare. */
function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}
