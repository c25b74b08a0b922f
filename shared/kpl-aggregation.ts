/**
 * KPL record aggregation: many user records packed into one Kinesis record, in the format the
 * Kinesis Producer Library writes and the Kinesis Client Library (and AWS Lambda via the
 * `aws-kinesis-agg` module) unpacks.
 *
 * Format (amazon-kinesis-producer aggregation-format.md):
 *
 *     MAGIC F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf bytes (16)
 *
 *     message AggregatedRecord {            message Record {
 *       repeated string partition_key_table = 1;      required uint64 partition_key_index = 1;
 *       repeated string explicit_hash_key_table = 2;  optional uint64 explicit_hash_key_index = 2;
 *       repeated Record records = 3;                  required bytes data = 3;
 *     }                                               repeated Tag tags = 4;   // never written
 *                                                   }
 *
 * The protobuf is small enough to write by hand: varints and length-delimited fields only. Key
 * tables are de-duplicated, as the KPL does, so a thousand readings under one partition key
 * carry the key once.
 */
import { createHash } from 'node:crypto';

export interface UserRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
}

/** One Kinesis record that carries the aggregate: what goes into PutRecords. */
export interface AggregatedKinesisRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
  /** How many user records it carries. */
  count: number;
}

export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const MD5_BYTES = 16;
// Kinesis quota: a record's data plus its partition key at most 1 MiB.
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;

// Protobuf wire types (protobuf encoding spec).
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
// Field tags: (field number << 3) | wire type. Every field here is numbered below 16, so a tag is one byte.
const PARTITION_KEY_TABLE_TAG = (1 << 3) | LENGTH_DELIMITED;
const EXPLICIT_HASH_KEY_TABLE_TAG = (2 << 3) | LENGTH_DELIMITED;
const RECORDS_TAG = (3 << 3) | LENGTH_DELIMITED;
const PARTITION_KEY_INDEX_TAG = (1 << 3) | VARINT;
const EXPLICIT_HASH_KEY_INDEX_TAG = (2 << 3) | VARINT;
const DATA_TAG = (3 << 3) | LENGTH_DELIMITED;

/** Encodes `records` as one KPL aggregated record (magic, protobuf, MD5). */
export function aggregate(records: readonly UserRecord[]): Buffer {
  const layout = new AggregateLayout();
  for (const record of records) layout.add(record);
  return layout.encode();
}

/** Exactly `aggregate(records).length`, without encoding anything. */
export function aggregatedSize(records: readonly UserRecord[]): number {
  const layout = new AggregateLayout();
  for (const record of records) layout.add(record);
  return layout.encodedBytes;
}

/**
 * The user records inside a KPL aggregated record, or undefined when `data` is not one. As the
 * KCL does, a record with the magic prefix whose checksum does not match, or whose protobuf does
 * not parse, is not aggregated: its consumer should take it as a plain record. The returned
 * `data` buffers share memory with `data`.
 */
export function deaggregate(data: Buffer): UserRecord[] | undefined {
  if (data.length < KPL_MAGIC.length + MD5_BYTES || !data.subarray(0, KPL_MAGIC.length).equals(KPL_MAGIC)) return undefined;
  const message = data.subarray(KPL_MAGIC.length, data.length - MD5_BYTES);
  const checksum = data.subarray(data.length - MD5_BYTES);
  if (!createHash('md5').update(message).digest().equals(checksum)) return undefined;
  try {
    return decodeAggregatedRecord(message);
  } catch (error) {
    if (error instanceof MalformedProtobuf) return undefined;
    throw error;
  }
}

/**
 * Accumulates user records into one aggregated Kinesis record and says when the next one would
 * not fit under the Kinesis record limit, so a caller packs records without re-encoding. The
 * aggregated record is routed by the first user record's partition key (and explicit hash key).
 */
export class Aggregator {
  private layout = new AggregateLayout();

  constructor(private readonly maxRecordBytes = KINESIS_MAX_RECORD_BYTES) {}

  get count(): number {
    return this.layout.records.length;
  }

  /** What the aggregated record counts against the limit now: its data plus its partition key. */
  get recordBytes(): number {
    return this.layout.encodedBytes + Buffer.byteLength(this.routingKey(), 'utf8');
  }

  /**
   * Adds `record` if the aggregate stays within the limit; false (and nothing added) if not. A
   * false on an empty aggregator means the record is too large to aggregate at all.
   */
  add(record: UserRecord): boolean {
    const growth = this.layout.growthFor(record);
    const routingKeyBytes = Buffer.byteLength(this.count === 0 ? record.partitionKey : this.routingKey(), 'utf8');
    if (this.layout.encodedBytes + growth + routingKeyBytes > this.maxRecordBytes) return false;
    this.layout.add(record);
    return true;
  }

  /** The aggregated record of everything added so far; the aggregator starts over empty. */
  take(): AggregatedKinesisRecord {
    const first = this.layout.records[0];
    if (!first) throw new RangeError('Aggregator.take() on an empty aggregator');
    const taken: AggregatedKinesisRecord = { partitionKey: first.partitionKey, data: this.layout.encode(), count: this.count };
    if (first.explicitHashKey !== undefined) taken.explicitHashKey = first.explicitHashKey;
    this.layout = new AggregateLayout();
    return taken;
  }

  private routingKey(): string {
    return this.layout.records[0]?.partitionKey ?? '';
  }
}

/** Key tables, records and the exact encoded size, kept up to date record by record. */
class AggregateLayout {
  readonly partitionKeys = new KeyTable();
  readonly explicitHashKeys = new KeyTable();
  readonly records: UserRecord[] = [];
  /** Size of the whole aggregated record: magic, protobuf and checksum. */
  encodedBytes = KPL_MAGIC.length + MD5_BYTES;

  /** How many bytes adding `record` would add to `encodedBytes`. */
  growthFor(record: UserRecord): number {
    let growth = 0;
    let partitionKeyIndex = this.partitionKeys.indexOf(record.partitionKey);
    if (partitionKeyIndex === undefined) {
      partitionKeyIndex = this.partitionKeys.size;
      growth += lengthDelimitedSize(Buffer.byteLength(record.partitionKey, 'utf8'));
    }
    let explicitHashKeyIndex: number | undefined;
    if (record.explicitHashKey !== undefined) {
      explicitHashKeyIndex = this.explicitHashKeys.indexOf(record.explicitHashKey);
      if (explicitHashKeyIndex === undefined) {
        explicitHashKeyIndex = this.explicitHashKeys.size;
        growth += lengthDelimitedSize(Buffer.byteLength(record.explicitHashKey, 'utf8'));
      }
    }
    return growth + lengthDelimitedSize(recordMessageSize(partitionKeyIndex, explicitHashKeyIndex, record.data.length));
  }

  add(record: UserRecord): void {
    this.encodedBytes += this.growthFor(record);
    this.partitionKeys.intern(record.partitionKey);
    if (record.explicitHashKey !== undefined) this.explicitHashKeys.intern(record.explicitHashKey);
    this.records.push(record);
  }

  encode(): Buffer {
    const out = Buffer.allocUnsafe(this.encodedBytes);
    KPL_MAGIC.copy(out, 0);
    let offset = KPL_MAGIC.length;
    for (const key of this.partitionKeys.keys) offset = writeString(out, offset, PARTITION_KEY_TABLE_TAG, key);
    for (const key of this.explicitHashKeys.keys) offset = writeString(out, offset, EXPLICIT_HASH_KEY_TABLE_TAG, key);
    for (const record of this.records) {
      const partitionKeyIndex = this.partitionKeys.indexOf(record.partitionKey) as number;
      const explicitHashKeyIndex = record.explicitHashKey === undefined ? undefined : this.explicitHashKeys.indexOf(record.explicitHashKey);
      out[offset++] = RECORDS_TAG;
      offset = writeVarint(out, offset, recordMessageSize(partitionKeyIndex, explicitHashKeyIndex, record.data.length));
      out[offset++] = PARTITION_KEY_INDEX_TAG;
      offset = writeVarint(out, offset, partitionKeyIndex);
      if (explicitHashKeyIndex !== undefined) {
        out[offset++] = EXPLICIT_HASH_KEY_INDEX_TAG;
        offset = writeVarint(out, offset, explicitHashKeyIndex);
      }
      out[offset++] = DATA_TAG;
      offset = writeVarint(out, offset, record.data.length);
      offset += record.data.copy(out, offset);
    }
    const message = out.subarray(KPL_MAGIC.length, offset);
    createHash('md5').update(message).digest().copy(out, offset);
    return out;
  }
}

class KeyTable {
  readonly keys: string[] = [];
  private readonly indexes = new Map<string, number>();

  get size(): number {
    return this.keys.length;
  }

  indexOf(key: string): number | undefined {
    return this.indexes.get(key);
  }

  intern(key: string): void {
    if (this.indexes.has(key)) return;
    this.indexes.set(key, this.keys.length);
    this.keys.push(key);
  }
}

/** Size of the Record sub-message: its index fields and its data field, without tags. */
function recordMessageSize(partitionKeyIndex: number, explicitHashKeyIndex: number | undefined, dataBytes: number): number {
  let size = 1 + varintSize(partitionKeyIndex);
  if (explicitHashKeyIndex !== undefined) size += 1 + varintSize(explicitHashKeyIndex);
  return size + lengthDelimitedSize(dataBytes);
}

/** A one-byte tag, the length as a varint, then `bytes` bytes. */
function lengthDelimitedSize(bytes: number): number {
  return 1 + varintSize(bytes) + bytes;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, offset: number, value: number): number {
  while (value >= 128) {
    out[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

function writeString(out: Buffer, offset: number, tag: number, text: string): number {
  out[offset++] = tag;
  const bytes = Buffer.byteLength(text, 'utf8');
  offset = writeVarint(out, offset, bytes);
  return offset + out.write(text, offset, bytes, 'utf8');
}

/** The protobuf is not an AggregatedRecord; deaggregate() turns this into "not aggregated". */
class MalformedProtobuf extends Error {}

interface EncodedRecord {
  partitionKeyIndex?: number;
  explicitHashKeyIndex?: number;
  data?: Buffer;
}

function decodeAggregatedRecord(message: Buffer): UserRecord[] {
  const partitionKeys: string[] = [];
  const explicitHashKeys: string[] = [];
  const encoded: EncodedRecord[] = [];
  // Tables may in principle follow the records, so indexes are resolved after the whole message.
  readFields(message, (field, wireType, reader) => {
    if (field === 1) partitionKeys.push(reader.bytes(wireType).toString('utf8'));
    else if (field === 2) explicitHashKeys.push(reader.bytes(wireType).toString('utf8'));
    else if (field === 3) encoded.push(decodeRecord(reader.bytes(wireType)));
    else reader.skip(wireType);
  });
  return encoded.map(({ partitionKeyIndex, explicitHashKeyIndex, data }) => {
    const partitionKey = partitionKeyIndex === undefined ? undefined : partitionKeys[partitionKeyIndex];
    if (partitionKey === undefined || data === undefined) throw new MalformedProtobuf('record without a valid partition key index or data');
    const record: UserRecord = { partitionKey, data };
    if (explicitHashKeyIndex !== undefined) {
      const explicitHashKey = explicitHashKeys[explicitHashKeyIndex];
      if (explicitHashKey === undefined) throw new MalformedProtobuf('explicit hash key index out of range');
      record.explicitHashKey = explicitHashKey;
    }
    return record;
  });
}

function decodeRecord(message: Buffer): EncodedRecord {
  const record: EncodedRecord = {};
  readFields(message, (field, wireType, reader) => {
    if (field === 1) record.partitionKeyIndex = reader.varint(wireType);
    else if (field === 2) record.explicitHashKeyIndex = reader.varint(wireType);
    else if (field === 3) record.data = reader.bytes(wireType);
    else reader.skip(wireType); // tags (4) and fields from newer formats
  });
  return record;
}

function readFields(message: Buffer, onField: (field: number, wireType: number, reader: FieldReader) => void): void {
  const reader = new FieldReader(message);
  while (!reader.done) {
    const key = reader.rawVarint();
    onField(Math.floor(key / 8), key % 8, reader);
  }
}

class FieldReader {
  private offset = 0;

  constructor(private readonly message: Buffer) {}

  get done(): boolean {
    return this.offset >= this.message.length;
  }

  varint(wireType: number): number {
    if (wireType !== VARINT) throw new MalformedProtobuf(`expected a varint, got wire type ${wireType}`);
    return this.rawVarint();
  }

  bytes(wireType: number): Buffer {
    if (wireType !== LENGTH_DELIMITED) throw new MalformedProtobuf(`expected a length-delimited field, got wire type ${wireType}`);
    const length = this.rawVarint();
    return this.take(length);
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.rawVarint();
    else if (wireType === FIXED64) this.take(8);
    else if (wireType === LENGTH_DELIMITED) this.take(this.rawVarint());
    else if (wireType === FIXED32) this.take(4);
    else throw new MalformedProtobuf(`unsupported wire type ${wireType}`);
  }

  /** A varint up to 2^53: larger values cannot index anything here. */
  rawVarint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.message[this.offset++];
      if (byte === undefined) throw new MalformedProtobuf('truncated varint');
      value += (byte & 0x7f) * scale;
      if (value > Number.MAX_SAFE_INTEGER) throw new MalformedProtobuf('varint out of range');
      if (byte < 0x80) return value;
      scale *= 128;
    }
  }

  private take(length: number): Buffer {
    if (length > this.message.length - this.offset) throw new MalformedProtobuf('field runs past the end of its message');
    const bytes = this.message.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }
}
