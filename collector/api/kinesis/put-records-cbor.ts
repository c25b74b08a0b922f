/**
 * PutRecords' CBOR 1.1 bodies read straight into the operation's validated input: the request
 * the Riffle agent, the KPL and the AWS SDK for Java send for every batch. The generic path
 * (cborg's token stream → objects → Buffers → the model walk → new objects) costs more than the
 * rest of a put; this reader walks the bytes once and makes per record only the entry, a view
 * of its Data and a view of its PartitionKey.
 *
 * It takes only what it can vouch for, and leaves everything else to the generic path, which
 * then decodes, validates and words any error exactly as before — a body never fails
 * differently for having met this reader. It takes: a definite-length map with text keys;
 * StreamName / StreamARN / StreamId as ASCII text that satisfies the model; Records a definite
 * array of as many entries as the model allows, each a definite map with Data a definite byte
 * string within the model's length, PartitionKey ASCII text within the model's length, and an
 * optional ExplicitHashKey matching the model's pattern; members it does not know (AWS ignores
 * them) with an ASCII key and a value of definite-length, untagged items. It falls back on
 * indefinite lengths (the generic path joins chunked strings, which cborg alone refuses), tags, non-text keys, a member given twice, null, non-ASCII text (cborg
 * decodes it leniently: U+FFFD for bad bytes, a leading BOM dropped; Java counts UTF-16 units),
 * a key `__proto__` (which the generic decode turns into a prototype), a broken constraint, and
 * bytes after the map.
 *
 * Data and partition keys are views of the request body, not copies: the shard log copies them
 * into its frames synchronously in `append`, so no view outlives the request. Partition keys
 * stay bytes: MD5, the throughput charge and the frame all take the UTF-8 bytes, so no string is
 * made for them.
 */
import { CBOR_ARRAY, CBOR_BYTES, CBOR_MAP, CBOR_NEGATIVE, CBOR_SIMPLE_OR_FLOAT, CBOR_TEXT, CBOR_UNSIGNED } from '../../../shared/cbor-buffer.js';
import type { PutRecordsEntry, PutRecordsInput } from './put-records.js';
import {
  explicitHashKeySatisfies,
  fallBack,
  MAX_DATA_BYTES,
  MAX_KEY_CHARS,
  MAX_RECORDS,
  MIN_DATA_BYTES,
  MIN_KEY_CHARS,
  MIN_RECORDS,
  MEMBER_NAMES,
  bytesAre,
  readOrFallBack,
  streamMemberAt,
  streamMemberSatisfies,
  type StreamMember,
} from './put-records-shape.js';

const PROTO = Buffer.from('__proto__', 'latin1');
/** Nesting the reader follows inside a member it skips; deeper bodies go the generic way. */
const MAX_SKIP_DEPTH = 32;

/** The validated input of a CBOR PutRecords body, or undefined when the generic path must read it. */
export function readPutRecordsCbor(body: Buffer): PutRecordsInput | undefined {
  return readOrFallBack(() => new PutRecordsReader(body).request());
}

class PutRecordsReader {
  private position = 0;
  /** Major type and additional information of the item head just read. */
  private major = 0;
  private info = 0;

  constructor(private readonly bytes: Buffer) {}

  request(): PutRecordsInput {
    const members = this.head(CBOR_MAP);
    const request: Partial<Record<StreamMember, string>> & { Records?: PutRecordsEntry[] } = {};
    for (let member = 0; member < members; member++) {
      const keyLength = this.head(CBOR_TEXT);
      const keyStart = this.take(keyLength);
      if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.Records)) {
        if (request.Records !== undefined) throw fallBack;
        request.Records = this.records();
        continue;
      }
      const streamMember = streamMemberAt(this.bytes, keyStart, keyLength);
      if (streamMember === undefined) {
        this.unknownMember(keyStart, keyLength);
        continue;
      }
      if (request[streamMember] !== undefined) throw fallBack;
      const value = this.asciiText();
      if (!streamMemberSatisfies(streamMember, value)) throw fallBack;
      request[streamMember] = value;
    }
    if (request.Records === undefined || this.position !== this.bytes.length) throw fallBack;
    return request as PutRecordsInput;
  }

  private records(): PutRecordsEntry[] {
    const count = this.head(CBOR_ARRAY);
    if (count < MIN_RECORDS || count > MAX_RECORDS) throw fallBack;
    const records: PutRecordsEntry[] = new Array(count);
    for (let index = 0; index < count; index++) records[index] = this.entry();
    return records;
  }

  private entry(): PutRecordsEntry {
    const bytes = this.bytes;
    const members = this.head(CBOR_MAP);
    let data: Buffer | undefined;
    let partitionKey: Buffer | undefined;
    let explicitHashKey: string | undefined;
    for (let member = 0; member < members; member++) {
      const keyLength = this.head(CBOR_TEXT);
      const keyStart = this.take(keyLength);
      if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.Data)) {
        if (data !== undefined) throw fallBack;
        const length = this.head(CBOR_BYTES);
        if (length < MIN_DATA_BYTES || length > MAX_DATA_BYTES) throw fallBack;
        const start = this.take(length);
        data = bytes.subarray(start, start + length);
      } else if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.PartitionKey)) {
        if (partitionKey !== undefined) throw fallBack;
        const length = this.head(CBOR_TEXT);
        if (length < MIN_KEY_CHARS || length > MAX_KEY_CHARS) throw fallBack;
        const start = this.take(length);
        this.requireAscii(start, length);
        partitionKey = bytes.subarray(start, start + length);
      } else if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.ExplicitHashKey)) {
        if (explicitHashKey !== undefined) throw fallBack;
        explicitHashKey = this.asciiText();
        if (!explicitHashKeySatisfies(explicitHashKey)) throw fallBack;
      } else {
        this.unknownMember(keyStart, keyLength);
      }
    }
    if (data === undefined || partitionKey === undefined) throw fallBack;
    return explicitHashKey === undefined ? { Data: data, PartitionKey: partitionKey } : { Data: data, PartitionKey: partitionKey, ExplicitHashKey: explicitHashKey };
  }

  /** A member the model does not have: AWS ignores it, and so does the generic path, unless its key or value is out of the ordinary. */
  private unknownMember(keyStart: number, keyLength: number): void {
    this.requireAscii(keyStart, keyLength);
    if (bytesAre(this.bytes, keyStart, keyLength, PROTO)) throw fallBack;
    this.skip(0);
  }

  /** Steps over one definite-length, untagged item, as cborg would decode it without complaint. */
  private skip(depth: number): void {
    if (depth > MAX_SKIP_DEPTH) throw fallBack;
    const argument = this.head(-1);
    switch (this.major) {
      case CBOR_UNSIGNED:
      case CBOR_NEGATIVE:
        return;
      case CBOR_BYTES:
      case CBOR_TEXT:
        this.take(argument);
        return;
      case CBOR_ARRAY:
        for (let item = 0; item < argument; item++) this.skip(depth + 1);
        return;
      case CBOR_MAP:
        // cborg refuses keys that are not text (objects, not Maps).
        for (let entry = 0; entry < argument; entry++) {
          this.take(this.head(CBOR_TEXT));
          this.skip(depth + 1);
        }
        return;
      case CBOR_SIMPLE_OR_FLOAT:
        // false, true, null, undefined, and half / single / double floats.
        if ((this.info >= 20 && this.info <= 23) || (this.info >= 25 && this.info <= 27)) return;
        throw fallBack;
      default:
        throw fallBack; // tags
    }
  }

  /**
   * Reads an item head of major type `expected` (any, for -1) and returns its argument: a
   * length, a count or an integer. Indefinite lengths, reserved values and arguments beyond
   * 2^53 fall back.
   */
  private head(expected: number): number {
    const bytes = this.bytes;
    const at = this.position;
    if (at >= bytes.length) throw fallBack;
    const initial = bytes[at]!;
    const major = initial >> 5;
    if (expected !== -1 && major !== expected) throw fallBack;
    const info = initial & 0x1f;
    this.major = major;
    this.info = info;
    if (info < 24) {
      this.position = at + 1;
      return info;
    }
    const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (width === 0 || at + 1 + width > bytes.length) throw fallBack;
    this.position = at + 1 + width;
    switch (width) {
      case 1:
        return bytes[at + 1]!;
      case 2:
        return bytes.readUInt16BE(at + 1);
      case 4:
        return bytes.readUInt32BE(at + 1);
      default: {
        const high = bytes.readUInt32BE(at + 1);
        if (high > 0x1fffff) throw fallBack;
        return high * 0x1_0000_0000 + bytes.readUInt32BE(at + 5);
      }
    }
  }

  /** Steps over `length` content bytes; returns where they start. */
  private take(length: number): number {
    const start = this.position;
    if (length > this.bytes.length - start) throw fallBack;
    this.position = start + length;
    return start;
  }

  private asciiText(): string {
    const length = this.head(CBOR_TEXT);
    const start = this.take(length);
    this.requireAscii(start, length);
    return this.bytes.toString('latin1', start, start + length);
  }

  private requireAscii(start: number, length: number): void {
    const bytes = this.bytes;
    for (let at = start; at < start + length; at++) if (bytes[at]! >= 0x80) throw fallBack;
  }
}
