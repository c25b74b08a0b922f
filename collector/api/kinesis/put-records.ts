import { asciiBytes, BufferWriter, utf8Length } from '../../../shared/buffer-writer.js';
import { CBOR_ARRAY, CBOR_MAP, CBOR_UNSIGNED, CborBufferWriter, encodeText, headBytes, textBytes } from '../../../shared/cbor-buffer.js';
import { AwsError } from '../../../shared/errors.js';
import { SEQUENCE_NUMBER_CHARS, SHARD_ID_CHARS, writeSequenceNumber, writeShardId } from '../../store/sequence-number.js';
import { StoredPut, type PutResult } from '../../store/streams.js';
import { WireAnswer, type WireProtocol } from '../operation.js';
import { checkExplicitHashKey, checkRecordSize } from './put-record.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface PutRecordsEntry {
  Data: Buffer;
  /** A string from the model walk, or its ASCII bytes from a fast reader (put-records-cbor.ts, put-records-json.ts). */
  PartitionKey: string | Buffer;
  ExplicitHashKey?: string;
}

export interface PutRecordsInput extends StreamAddress {
  Records: PutRecordsEntry[];
}

/** PutRecords quota: 500 records (the model checks) and 5 MiB including partition keys. */
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export const putRecords: KinesisOperation<PutRecordsInput> = {
  name: 'PutRecords',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const maxRecordBytes = store.maxRecordBytes(ref);
    let total = 0;
    for (const record of input.Records) {
      checkExplicitHashKey(record.ExplicitHashKey);
      total += checkRecordSize(record.Data, record.PartitionKey, maxRecordBytes);
    }
    if (total > MAX_REQUEST_BYTES) {
      throw new AwsError('InvalidArgumentException', `Records size exceeds 5 MB limit`);
    }
    const started = Date.now();
    const results = await store.putRecords(
      ref,
      // No spread of an empty object per record: this runs 500 times a call.
      input.Records.map((r) => (r.ExplicitHashKey === undefined ? { data: r.Data, partitionKey: r.PartitionKey } : { data: r.Data, partitionKey: r.PartitionKey, explicitHashKey: r.ExplicitHashKey })),
    );
    const answer = new PutRecordsAnswer(results);
    const name = store.nameOf(ref);
    if (answer.failed < results.length) store.metrics.add(name, 'PutRecords.Success', 1);
    store.metrics.add(name, 'PutRecords.FailedRecords', answer.failed);
    store.metrics.add(name, 'PutRecords.Latency', Date.now() - started);
    return answer;
  },
};

/**
 * `{FailedRecordCount, Records: [{SequenceNumber, ShardId} | {ErrorCode, ErrorMessage}],
 * EncryptionType?}`, written straight into one Buffer with shard ids and sequence numbers as
 * digits (no strings, no objects per record). The bytes are what the generic encoders write
 * for `toOutput()`: JSON in that member order, CBOR in cborg's (shorter keys first).
 */
export class PutRecordsAnswer extends WireAnswer {
  readonly failed: number;
  private readonly encrypted: boolean;

  constructor(private readonly results: readonly PutResult[]) {
    super();
    let failed = 0;
    let encrypted = false;
    for (const result of results) {
      if (result instanceof StoredPut) encrypted ||= result.encrypted;
      else failed++;
    }
    this.failed = failed;
    this.encrypted = encrypted;
  }

  encode(protocol: WireProtocol): Buffer {
    return protocol === 'cbor' ? this.cbor() : this.json();
  }

  /** The answer as the operation's output structure. */
  toOutput(): { FailedRecordCount: number; Records: Array<Record<string, string>>; EncryptionType?: 'KMS' } {
    const records = this.results.map((result): Record<string, string> =>
      result instanceof StoredPut ? { SequenceNumber: result.sequenceNumber, ShardId: result.shardId } : { ErrorCode: result.errorCode, ErrorMessage: result.errorMessage },
    );
    return { FailedRecordCount: this.failed, Records: records, ...(this.encrypted ? { EncryptionType: 'KMS' as const } : {}) };
  }

  private json(): Buffer {
    const results = this.results;
    const failedCount = String(this.failed);
    /** Failed entries as JSON text (rare: throttling), escaped by JSON.stringify. */
    const failures = new Map<number, string>();
    // Commas between entries, `]`, `}`.
    let size = JSON_HEAD.length + failedCount.length + JSON_RECORDS.length + Math.max(0, results.length - 1) + 2;
    for (let index = 0; index < results.length; index++) {
      const result = results[index]!;
      if (result instanceof StoredPut) {
        size += JSON_STORED_ENTRY_BYTES;
      } else {
        const text = `{"ErrorCode":${JSON.stringify(result.errorCode)},"ErrorMessage":${JSON.stringify(result.errorMessage)}}`;
        failures.set(index, text);
        size += utf8Length(text);
      }
    }
    if (this.encrypted) size += JSON_ENCRYPTION.length;

    const writer = new BufferWriter(size);
    const bytes = writer.bytes;
    writer.copy(JSON_HEAD);
    writer.utf8(failedCount, failedCount.length);
    writer.copy(JSON_RECORDS);
    for (let index = 0; index < results.length; index++) {
      if (index > 0) writer.byte(COMMA);
      const result = results[index]!;
      if (result instanceof StoredPut) {
        writer.copy(JSON_SEQUENCE_NUMBER);
        writeSequenceNumber(bytes, writer.reserve(SEQUENCE_NUMBER_CHARS), result.shardNumber, result.ordinal);
        writer.copy(JSON_SHARD_ID);
        writeShardId(bytes, writer.reserve(SHARD_ID_CHARS), result.shardNumber);
        writer.copy(JSON_ENTRY_END);
      } else {
        const text = failures.get(index)!;
        writer.utf8(text, utf8Length(text));
      }
    }
    writer.byte(CLOSE_BRACKET);
    if (this.encrypted) writer.copy(JSON_ENCRYPTION);
    writer.byte(CLOSE_BRACE);
    return writer.finish();
  }

  private cbor(): Buffer {
    const results = this.results;
    let size = headBytes(this.encrypted ? 3 : 2) + KEY_BYTES.Records + headBytes(results.length);
    for (const result of results) {
      if (result instanceof StoredPut) size += STORED_ENTRY_BYTES;
      else size += ENTRY_HEAD_BYTES + KEY_BYTES.ErrorCode + textBytes(result.errorCode) + KEY_BYTES.ErrorMessage + textBytes(result.errorMessage);
    }
    if (this.encrypted) size += KEY_BYTES.EncryptionType + textBytes('KMS');
    size += KEY_BYTES.FailedRecordCount + headBytes(this.failed);

    const writer = new CborBufferWriter(size);
    writer.head(CBOR_MAP, this.encrypted ? 3 : 2);
    writer.text('Records');
    writer.head(CBOR_ARRAY, results.length);
    const bytes = writer.bytes;
    for (const result of results) {
      writer.head(CBOR_MAP, 2);
      if (result instanceof StoredPut) {
        writer.copy(SHARD_ID_KEY);
        writeShardId(bytes, writer.reserveText(SHARD_ID_CHARS), result.shardNumber);
        writer.copy(SEQUENCE_NUMBER_KEY);
        writeSequenceNumber(bytes, writer.reserveText(SEQUENCE_NUMBER_CHARS), result.shardNumber, result.ordinal);
      } else {
        writer.text('ErrorCode');
        writer.text(result.errorCode);
        writer.text('ErrorMessage');
        writer.text(result.errorMessage);
      }
    }
    if (this.encrypted) {
      writer.text('EncryptionType');
      writer.text('KMS');
    }
    writer.text('FailedRecordCount');
    writer.head(CBOR_UNSIGNED, this.failed);
    return writer.finish();
  }
}

const ENTRY_HEAD_BYTES = headBytes(2);
const SHARD_ID_KEY = encodeText('ShardId');
const SEQUENCE_NUMBER_KEY = encodeText('SequenceNumber');
const KEY_BYTES = {
  Records: textBytes('Records'),
  ErrorCode: textBytes('ErrorCode'),
  ErrorMessage: textBytes('ErrorMessage'),
  EncryptionType: textBytes('EncryptionType'),
  FailedRecordCount: textBytes('FailedRecordCount'),
};
/** A stored record's entry: {ShardId, SequenceNumber}, both fixed-length ASCII. */
const STORED_ENTRY_BYTES =
  ENTRY_HEAD_BYTES + SHARD_ID_KEY.length + headBytes(SHARD_ID_CHARS) + SHARD_ID_CHARS + SEQUENCE_NUMBER_KEY.length + headBytes(SEQUENCE_NUMBER_CHARS) + SEQUENCE_NUMBER_CHARS;

const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const JSON_HEAD = asciiBytes('{"FailedRecordCount":');
const JSON_RECORDS = asciiBytes(',"Records":[');
const JSON_SEQUENCE_NUMBER = asciiBytes('{"SequenceNumber":"');
const JSON_SHARD_ID = asciiBytes('","ShardId":"');
const JSON_ENTRY_END = asciiBytes('"}');
const JSON_ENCRYPTION = asciiBytes(',"EncryptionType":"KMS"');
const JSON_STORED_ENTRY_BYTES = JSON_SEQUENCE_NUMBER.length + SEQUENCE_NUMBER_CHARS + JSON_SHARD_ID.length + SHARD_ID_CHARS + JSON_ENTRY_END.length;
