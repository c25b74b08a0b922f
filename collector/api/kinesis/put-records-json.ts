/**
 * PutRecords' JSON 1.1 bodies read straight into the operation's validated input: what every
 * AWS SDK but Java's sends. Like the CBOR reader (put-records-cbor.ts) it takes only the plain
 * form of a valid request and leaves everything else to the generic path (JSON.parse or
 * parseJsonBuffer, then the model walk), which decodes, validates and words any error as before.
 *
 * It takes: an object with StreamName / StreamARN / StreamId strings that satisfy the model and
 * Records, an array of as many entries as the model allows, each an object with Data (Base64 as
 * the generic path accepts it: the standard alphabet, length a multiple of 4, at most two `=`
 * at the end with zero pad bits), PartitionKey within the model's length and an optional
 * ExplicitHashKey matching the model's pattern; JSON whitespace anywhere between tokens. It
 * falls back on any other member (AWS ignores unknown members, and so does the generic path —
 * skipping an arbitrary JSON value is not worth its code here), a member given twice, null,
 * numbers or literals where strings belong, strings with escapes, control characters or
 * non-ASCII bytes, a broken constraint, and anything after the object.
 *
 * Data is decoded by the generic path's own Base64 check (decodeBase64Blob), so the two accept
 * exactly the same blobs; partition keys are ASCII views of the body, as in the CBOR reader.
 * The shard log copies both into its frames before `append` returns.
 */
import { decodeBase64Blob } from '../schemas/validate.js';
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The validated input of a JSON PutRecords body, or undefined when the generic path must read it. */
export function readPutRecordsJson(body: Buffer): PutRecordsInput | undefined {
  return readOrFallBack(() => new PutRecordsJsonReader(body).request());
}

class PutRecordsJsonReader {
  private position = 0;

  constructor(private readonly bytes: Buffer) {}

  request(): PutRecordsInput {
    const request: Partial<Record<StreamMember, string>> & { Records?: PutRecordsEntry[] } = {};
    this.expect(OPEN_BRACE);
    do {
      const keyLength = this.string();
      const keyStart = this.position - keyLength - 1;
      this.expect(COLON);
      if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.Records)) {
        if (request.Records !== undefined) throw fallBack;
        request.Records = this.records();
        continue;
      }
      const streamMember = streamMemberAt(this.bytes, keyStart, keyLength);
      if (streamMember === undefined || request[streamMember] !== undefined) throw fallBack;
      const length = this.string();
      const value = this.bytes.toString('latin1', this.position - length - 1, this.position - 1);
      if (!streamMemberSatisfies(streamMember, value)) throw fallBack;
      request[streamMember] = value;
    } while (this.separator(CLOSE_BRACE));
    this.skipWhitespace();
    if (request.Records === undefined || this.position !== this.bytes.length) throw fallBack;
    return request as PutRecordsInput;
  }

  private records(): PutRecordsEntry[] {
    const records: PutRecordsEntry[] = [];
    this.expect(OPEN_BRACKET);
    do {
      if (records.length === MAX_RECORDS) throw fallBack;
      records.push(this.entry());
    } while (this.separator(CLOSE_BRACKET));
    if (records.length < MIN_RECORDS) throw fallBack;
    return records;
  }

  private entry(): PutRecordsEntry {
    let data: Buffer | undefined;
    let partitionKey: Buffer | undefined;
    let explicitHashKey: string | undefined;
    this.expect(OPEN_BRACE);
    do {
      const keyLength = this.string();
      const keyStart = this.position - keyLength - 1;
      this.expect(COLON);
      if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.Data)) {
        if (data !== undefined) throw fallBack;
        data = this.base64();
      } else if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.PartitionKey)) {
        if (partitionKey !== undefined) throw fallBack;
        const length = this.string();
        if (length < MIN_KEY_CHARS || length > MAX_KEY_CHARS) throw fallBack;
        partitionKey = this.bytes.subarray(this.position - length - 1, this.position - 1);
      } else if (bytesAre(this.bytes, keyStart, keyLength, MEMBER_NAMES.ExplicitHashKey)) {
        if (explicitHashKey !== undefined) throw fallBack;
        const length = this.string();
        explicitHashKey = this.bytes.toString('latin1', this.position - length - 1, this.position - 1);
        if (!explicitHashKeySatisfies(explicitHashKey)) throw fallBack;
      } else {
        throw fallBack;
      }
    } while (this.separator(CLOSE_BRACE));
    if (data === undefined || partitionKey === undefined) throw fallBack;
    return explicitHashKey === undefined ? { Data: data, PartitionKey: partitionKey } : { Data: data, PartitionKey: partitionKey, ExplicitHashKey: explicitHashKey };
  }

  /**
   * A string of plain ASCII (no escapes, no control characters); leaves the position after its
   * closing quote and returns its length, so its content is the `length` bytes before that quote.
   */
  private string(): number {
    this.expect(QUOTE);
    const bytes = this.bytes;
    const start = this.position;
    let at = start;
    for (;;) {
      const byte = bytes[at];
      if (byte === QUOTE) break;
      if (byte === undefined || byte === BACKSLASH || byte < 0x20 || byte >= 0x80) throw fallBack;
      at++;
    }
    this.position = at + 1;
    return at - start;
  }

  /**
   * Data: Base64 exactly as the generic path accepts it (decodeBase64Blob, Node's native
   * decoder: several times faster than a loop here for kilobyte records). Its end is found with
   * indexOf; a string with an escape or a byte outside Base64's alphabet is refused by the check
   * and falls back.
   */
  private base64(): Buffer {
    this.expect(QUOTE);
    const start = this.position;
    const end = this.bytes.indexOf(QUOTE, start);
    if (end === -1) throw fallBack;
    this.position = end + 1;
    const data = decodeBase64Blob(this.bytes.toString('latin1', start, end));
    if (data === undefined || data.length < MIN_DATA_BYTES || data.length > MAX_DATA_BYTES) throw fallBack;
    return data;
  }

  /** After a member or element: true for a comma (another follows), false for `close`. */
  private separator(close: number): boolean {
    this.skipWhitespace();
    const byte = this.bytes[this.position++];
    if (byte === COMMA) return true;
    if (byte === close) return false;
    throw fallBack;
  }

  private expect(byte: number): void {
    this.skipWhitespace();
    if (this.bytes[this.position] !== byte) throw fallBack;
    this.position++;
  }

  /** JSON whitespace (RFC 8259 §2): space, tab, line feed, carriage return. */
  private skipWhitespace(): void {
    const bytes = this.bytes;
    let at = this.position;
    for (;;) {
      const byte = bytes[at];
      if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) at++;
      else break;
    }
    this.position = at;
  }
}
