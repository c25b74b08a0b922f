/**
 * PutRecords in AWS CBOR 1.1 (`application/x-amz-cbor-1.1`, what the AWS SDK for Java and the KPL
 * send to Kinesis), the format the kinesis sink speaks to a Riffle collector: the request body
 * written by hand into one Buffer, and the answer's per-record results read by hand.
 *
 * Why CBOR to a collector: the data travels as CBOR byte strings, copied as they are, where JSON
 * 1.1 needs base64 — a third more bytes to compress, and base64 text to write here and to parse
 * and decode on the collector. AWS itself gets JSON (shared/aws-client.ts decides which
 * endpoint is which); so does Firehose, which has no CBOR protocol at AWS.
 *
 * Request (RFC 8949 definite lengths throughout, so the exact size is known before writing):
 *   map(2) { "StreamName": text, "Records": array(n) [ map(2|3) { "Data": bytes,
 *   "PartitionKey": text, "ExplicitHashKey"?: text }, … ] }
 * A partition key is text, so it must be UTF-8: a lone UTF-16 surrogate (which a JSON body could
 * carry escaped) is written as U+FFFD, as Buffer.write writes it.
 *
 * Answer: map { "FailedRecordCount": uint, "Records": [ {"SequenceNumber", "ShardId"} |
 * {"ErrorCode", "ErrorMessage"}, … ], "EncryptionType"? }. Only the per-record error codes and
 * messages matter to the sink; everything else is skipped without building strings for it.
 * The reader accepts any valid encoding of that value (indefinite lengths, tags, any key order)
 * and throws CborAnswerError on anything malformed or of another shape. Why not cborg (already a
 * dependency, the collector's codec): for a 500-record answer it builds 1,500 strings and 500
 * objects the sink never reads — see the measurements in README's agent section.
 */
import type { PackedRecords } from '../buffer/packed-records.js';
import type { RecordsBodyShape } from './records-body.js';
import { utf8Length } from '../../shared/buffer-writer.js';
import { CBOR_ARRAY, CBOR_BREAK, CBOR_BYTES, CBOR_INDEFINITE, CBOR_MAP, CBOR_TAG, CBOR_TEXT, CborBufferWriter, encodeText, headBytes, textBytes } from '../../shared/cbor-buffer.js';


const RECORDS_KEY = encodeText('Records');
const DATA_KEY = encodeText('Data');
const PARTITION_KEY_KEY = encodeText('PartitionKey');
const EXPLICIT_HASH_KEY_KEY = encodeText('ExplicitHashKey');

/** A text item whose UTF-8 length `bytes` the caller has measured (it sized the body with it). */
function writeText(writer: CborBufferWriter, text: string, bytes: number): void {
  writer.head(CBOR_TEXT, bytes);
  writer.utf8(text, bytes);
}

/** The PutRecords request for `records` (see the header for the layout). */
export function encodeRecordsCbor(shape: RecordsBodyShape, streamName: string, records: PackedRecords): Buffer {
  const streamKey = encodeText(shape.streamMember);
  const streamNameBytes = utf8Length(streamName);
  const keyBytes = new Array<number>(records.length);
  let size = 1 + streamKey.length + headBytes(streamNameBytes) + streamNameBytes + RECORDS_KEY.length + headBytes(records.length);
  for (let i = 0; i < records.length; i++) {
    const dataBytes = records.dataLength(i);
    size += 1 + DATA_KEY.length + headBytes(dataBytes) + dataBytes; // the entry's map head, then Data
    if (!shape.partitionKeys) continue;
    const partitionKeyBytes = utf8Length(records.partitionKey(i) ?? '');
    keyBytes[i] = partitionKeyBytes;
    size += PARTITION_KEY_KEY.length + headBytes(partitionKeyBytes) + partitionKeyBytes;
    const explicitHashKey = records.explicitHashKey(i);
    if (explicitHashKey !== undefined) size += EXPLICIT_HASH_KEY_KEY.length + textBytes(explicitHashKey);
  }

  // CborBufferWriter.finish throws if the body does not fill `size`: a sizing bug, never input.
  const writer = new CborBufferWriter(size);
  writer.head(CBOR_MAP, 2);
  writer.copy(streamKey);
  writeText(writer, streamName, streamNameBytes);
  writer.copy(RECORDS_KEY);
  writer.head(CBOR_ARRAY, records.length);
  const { bytes } = records;
  for (let i = 0; i < records.length; i++) {
    const hashKey = shape.partitionKeys ? records.explicitHashKey(i) : undefined;
    writer.head(CBOR_MAP, !shape.partitionKeys ? 1 : hashKey === undefined ? 2 : 3);
    writer.copy(DATA_KEY);
    const start = records.start(i);
    const end = records.end(i);
    writer.head(CBOR_BYTES, end - start);
    bytes.copy(writer.bytes, writer.reserve(end - start), start, end); // one native copy for the data
    if (!shape.partitionKeys) continue;
    writer.copy(PARTITION_KEY_KEY);
    writeText(writer, records.partitionKey(i) ?? '', keyBytes[i]!);
    if (hashKey !== undefined) {
      writer.copy(EXPLICIT_HASH_KEY_KEY);
      writer.text(hashKey);
    }
  }
  return writer.finish();
}

/** A CBOR answer that is malformed or not the expected structure. */
export class CborAnswerError extends Error {}

/** One result of the answer's list: a success carries no error (the shared empty entry). */
export type RecordResult = { ErrorCode?: string; ErrorMessage?: string };

const succeeded: RecordResult = Object.freeze({});
const resultKeys = [Buffer.from('ErrorCode'), Buffer.from('ErrorMessage')] as const;
const resultMembers = ['ErrorCode', 'ErrorMessage'] as const;

/**
 * The answer's `resultsMember` list (`Records` for PutRecords), as the JSON decoder would give it
 * to the sink: `{ [resultsMember]: RecordResult[] }`, or `{}` when the member is absent.
 */
export function decodeRecordResults(answer: Buffer, resultsMember: string): Record<string, unknown> {
  const reader = new CborReader(answer);
  const output: Record<string, unknown> = {};
  reader.forEachMapEntry([Buffer.from(resultsMember, 'utf8')], (known) => {
    if (known < 0) reader.skip();
    else output[resultsMember] = reader.readList(() => readResult(reader));
  });
  if (reader.at !== answer.length) throw new CborAnswerError(`${answer.length - reader.at} bytes after the answer`);
  return output;
}

function readResult(reader: CborReader): RecordResult {
  let result = succeeded;
  reader.forEachMapEntry(resultKeys, (known) => {
    if (known < 0) return reader.skip();
    if (result === succeeded) result = {};
    result[resultMembers[known]!] = reader.readText();
  });
  return result;
}

/**
 * Just enough of an RFC 8949 reader for the answer: walks items, and reads only what it is asked
 * for. The head of the item last read is in `major`, `argument` and `indefinite` (no object per
 * item); keys are compared in place.
 */
class CborReader {
  at = 0;
  private major = 0;
  private argument = 0;
  private indefinite = false;

  constructor(private readonly bytes: Buffer) {}

  /**
   * Calls `visit` once per entry of the map here, positioned at the value, with the index in
   * `keys` (UTF-8 bytes) of the entry's key, or -1 for any other key.
   */
  forEachMapEntry(keys: readonly Buffer[], visit: (known: number) => void): void {
    this.readHead();
    if (this.major !== CBOR_MAP) throw new CborAnswerError(`expected a map, found major type ${this.major}`);
    const { argument, indefinite } = this;
    for (let i = 0; indefinite ? !this.atBreak() : i < argument; i++) visit(this.readKey(keys));
  }

  readList<T>(readItem: () => T): T[] {
    this.readHead();
    if (this.major !== CBOR_ARRAY) throw new CborAnswerError(`expected an array, found major type ${this.major}`);
    const { argument, indefinite } = this;
    const items: T[] = [];
    for (let i = 0; indefinite ? !this.atBreak() : i < argument; i++) items.push(readItem());
    return items;
  }

  readText(): string {
    this.readHead();
    if (this.major !== CBOR_TEXT) throw new CborAnswerError(`expected text, found major type ${this.major}`);
    return this.readStringBody().toString('utf8');
  }

  /** Skips one whole item, nested ones included. */
  skip(): void {
    this.readHead();
    const { major, argument, indefinite } = this;
    switch (major) {
      case CBOR_BYTES:
      case CBOR_TEXT:
        if (indefinite) while (!this.atBreak()) this.skip();
        else this.advance(argument);
        return;
      case CBOR_ARRAY:
      case CBOR_MAP: {
        const items = major === CBOR_MAP ? argument * 2 : argument;
        if (indefinite) while (!this.atBreak()) this.skip();
        else for (let i = 0; i < items; i++) this.skip();
        return;
      }
      case CBOR_TAG:
        this.skip();
        return;
      default: // integers, simple values and floats: the head was all of it
        return;
    }
  }

  /** The index in `keys` of the key here, or -1 (another key, or one that is not text). */
  private readKey(keys: readonly Buffer[]): number {
    if (this.peekMajor() !== CBOR_TEXT) {
      this.skip();
      return -1;
    }
    this.readHead();
    if (this.indefinite) {
      const key = this.readStringBody();
      return keys.findIndex((known) => known.equals(key));
    }
    const start = this.at;
    const length = this.argument;
    this.advance(length);
    return keys.findIndex((known) => known.length === length && this.bytes.compare(known, 0, length, start, start + length) === 0);
  }

  /** After a text head: the string's UTF-8 bytes, the chunks of an indefinite one joined. */
  private readStringBody(): Buffer {
    if (!this.indefinite) return this.take(this.argument);
    const chunks: Buffer[] = [];
    while (!this.atBreak()) {
      this.readHead();
      if (this.major !== CBOR_TEXT || this.indefinite) throw new CborAnswerError('an indefinite text string holds a chunk that is not definite text');
      chunks.push(this.take(this.argument));
    }
    return Buffer.concat(chunks);
  }

  private peekMajor(): number {
    if (this.at >= this.bytes.length) throw new CborAnswerError('the answer ends early');
    return this.bytes[this.at]! >> 5;
  }

  /** At a "break" (0xff), which ends an indefinite item: consumes it. */
  private atBreak(): boolean {
    if (this.at >= this.bytes.length) throw new CborAnswerError('the answer ends early');
    if (this.bytes[this.at] !== CBOR_BREAK) return false;
    this.at += 1;
    return true;
  }

  private advance(length: number): void {
    if (this.at + length > this.bytes.length) throw new CborAnswerError('the answer ends early');
    this.at += length;
  }

  private take(length: number): Buffer {
    const start = this.at;
    this.advance(length);
    return this.bytes.subarray(start, this.at);
  }

  private readHead(): void {
    const start = this.at;
    this.advance(1);
    const initial = this.bytes[start]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    this.major = major;
    this.indefinite = false;
    if (info < 24) {
      this.argument = info;
      return;
    }
    if (info === CBOR_INDEFINITE) {
      // A break is consumed by atBreak where one may end an item; anywhere else it is misplaced.
      if (major !== CBOR_BYTES && major !== CBOR_TEXT && major !== CBOR_ARRAY && major !== CBOR_MAP) throw new CborAnswerError(`major type ${major} cannot be indefinite`);
      this.indefinite = true;
      this.argument = 0;
      return;
    }
    if (info > 27) throw new CborAnswerError(`reserved additional information ${info}`);
    const width = 1 << (info - 24); // 24..27: a 1, 2, 4 or 8-byte argument
    this.advance(width);
    // Integers, floats and simple values are only ever skipped; an 8-byte length is beyond any
    // answer (MAX_RESPONSE_BYTES), and Number() keeps it too large to fit.
    this.argument = width === 8 ? Number(this.bytes.readBigUInt64BE(start + 1)) : this.bytes.readUIntBE(start + 1, width);
  }
}
