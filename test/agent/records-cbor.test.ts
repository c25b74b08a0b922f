/**
 * The kinesis sink's hand-written CBOR: the PutRecords body, decoded with cbor2 (independent of
 * both the writer and the collector's cborg), means what the JSON body means; the answer reader
 * gives what the general decoder gives, for any valid encoding, and refuses malformed answers.
 */
import { randomBytes } from 'node:crypto';
import { decode as decodeCborBytes } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { encodeRecordsBody } from '../../agent/sinks/records-body.js';
import { CborAnswerError, decodeRecordResults, encodeRecordsCbor } from '../../agent/sinks/records-cbor.js';
import { PackedRecords } from '../../agent/buffer/packed-records.js';
import type { SinkRecord } from '../../agent/sinks/sink.js';
import { decodeAwsBody } from '../../shared/aws-wire.js';
import { cborEncode, cborPieces } from '../helpers/cbor-pieces.js';

const putRecords = { streamMember: 'StreamName', partitionKeys: true };
const awkwardKeys = ['device-1', 'quote " and backslash \\', 'tab\tnewline\n\u0001', 'üñïçødé ✓', '😀 astral', 'x'.repeat(23), 'y'.repeat(24), 'z'.repeat(256)];
// Lengths on each side of every CBOR head size: 1 byte below 24, 2 below 256, 3 below 65,536, then 5.
const dataLengths = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 300_000];

function records(): SinkRecord[] {
  return dataLengths.flatMap((length, i) => [
    { data: randomBytes(length), partitionKey: awkwardKeys[i % awkwardKeys.length]! },
    { data: randomBytes(length), partitionKey: awkwardKeys[(i + 3) % awkwardKeys.length]!, explicitHashKey: String(2n ** 127n + BigInt(i)) },
  ]);
}

type Entry = { Data: Uint8Array | string; PartitionKey: string; ExplicitHashKey?: string };

/** What a body says, whatever its protocol: data as base64 (fast to compare), keys as text. */
function meaning(body: { StreamName: string; Records: Entry[] }) {
  return {
    StreamName: body.StreamName,
    Records: body.Records.map(({ Data, ...keys }) => ({ Data: typeof Data === 'string' ? Data : Buffer.from(Data).toString('base64'), ...keys })),
  };
}

describe('PutRecords CBOR body', () => {
  it('decodes with cbor2 to what the JSON body says, byte strings and text keys', () => {
    const batch = records();
    const cbor = encodeRecordsCbor(putRecords, 'logs "prod" ✓', PackedRecords.from(batch));
    const decoded = decodeCborBytes(cbor) as { StreamName: string; Records: Entry[] };

    const json = JSON.parse(encodeRecordsBody(putRecords, 'logs "prod" ✓', PackedRecords.from(batch)).toString('utf8')) as { StreamName: string; Records: Entry[] };
    expect(meaning(decoded)).toEqual(meaning(json));
    expect(decoded.Records.every((entry) => entry.Data instanceof Uint8Array)).toBe(true);
    // Nothing base64: the body is the data plus a few bytes of structure per record.
    const dataBytes = batch.reduce((sum, record) => sum + record.data.length, 0);
    expect(cbor.length).toBeLessThan(dataBytes + 100 * batch.length);
  });

  it('writes definite lengths only, each in its shortest head', () => {
    const batch = [{ data: Buffer.alloc(24, 7), partitionKey: 'k' }];
    const cbor = encodeRecordsCbor(putRecords, 's', PackedRecords.from(batch));
    // map(2) "StreamName" "s" "Records" array(1) map(2) "Data" bytes(24) … "PartitionKey" "k"
    const expected = Buffer.concat([
      Buffer.from([0xa2, 0x6a]),
      Buffer.from('StreamName'),
      Buffer.from([0x61, 0x73, 0x67]),
      Buffer.from('Records'),
      Buffer.from([0x81, 0xa2, 0x64]),
      Buffer.from('Data'),
      Buffer.from([0x58, 24]),
      Buffer.alloc(24, 7),
      Buffer.from([0x6c]),
      Buffer.from('PartitionKey'),
      Buffer.from([0x61, 0x6b]),
    ]);
    expect(cbor.equals(expected)).toBe(true);
  });

  it('writes a lone surrogate in a key as U+FFFD, since CBOR text is UTF-8', () => {
    const cbor = encodeRecordsCbor(putRecords, 's', PackedRecords.from([{ data: Buffer.from('x'), partitionKey: 'lone \ud800 surrogate' }]));
    const decoded = decodeCborBytes(cbor) as { Records: Entry[] };
    expect(decoded.Records[0]!.PartitionKey).toBe('lone \ufffd surrogate');
  });

  it('a PutRecordBatch shape carries only Data', () => {
    const cbor = encodeRecordsCbor({ streamMember: 'DeliveryStreamName', partitionKeys: false }, 'to-s3', PackedRecords.from([{ data: Buffer.from('a'), partitionKey: 'ignored' }]));
    const decoded = decodeCborBytes(cbor) as { DeliveryStreamName: string; Records: Array<{ Data: Uint8Array }> };
    expect(decoded.DeliveryStreamName).toBe('to-s3');
    expect(decoded.Records.map((entry) => Object.keys(entry))).toEqual([['Data']]);
    expect(Buffer.from(decoded.Records[0]!.Data).toString()).toBe('a');
  });
});

const shard = 'shardId-000000000000';
const success = (i: number) => ({ SequenceNumber: `4963${String(i).padStart(52, '0')}`, ShardId: shard });
const throttled = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000' };

/** The sink's view of an answer: per record, its error or nothing. */
function errorsOf(output: Record<string, unknown>): unknown[] {
  return (output.Records as Array<Record<string, unknown>>).map(({ ErrorCode, ErrorMessage }) => ({ ErrorCode, ErrorMessage }));
}

// Head bytes for cborPieces.
const indefiniteMap = 0xbf;
const indefiniteArray = 0x9f;
const indefiniteText = 0x7f;
const breakByte = 0xff;

describe('PutRecords CBOR answer', () => {
  it('reads the per-record errors as the general decoder does, successes and failures mixed', () => {
    const answer = { FailedRecordCount: 2, Records: [success(1), throttled, success(2), { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }], EncryptionType: 'NONE' };
    const bytes = cborEncode(answer);
    expect(errorsOf(decodeRecordResults(bytes, 'Records'))).toEqual(errorsOf(decodeAwsBody(bytes, 'cbor')));
    expect(errorsOf(decodeRecordResults(bytes, 'Records'))).toEqual([{}, throttled, {}, { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }].map((e) => ({ ErrorCode: undefined, ErrorMessage: undefined, ...e })));
  });

  it('accepts indefinite lengths, chunked text, tags, floats, other keys and key orders', () => {
    const bytes = cborPieces(
      indefiniteMap,
      'Unknown',
      { nested: [1.5, -3, null, true, new Uint8Array([1, 2])] },
      'Records',
      indefiniteArray,
      indefiniteMap,
      'ShardId',
      shard,
      'SequenceNumber',
      indefiniteText,
      '4963',
      '0001',
      breakByte,
      breakByte,
      indefiniteMap,
      'ErrorMessage',
      'Rate exceeded',
      'Extra',
      0xc1, 0x1a, 0, 0, 0, 1, // tag 1 (a timestamp) around a 4-byte integer
      'ErrorCode',
      'ProvisionedThroughputExceededException',
      breakByte,
      indefiniteMap,
      indefiniteText,
      'Error',
      'Code',
      breakByte,
      'InternalFailure',
      breakByte,
      breakByte,
      'FailedRecordCount',
      cborEncode(2),
      breakByte,
    );
    expect(errorsOf(decodeRecordResults(bytes, 'Records'))).toEqual([
      { ErrorCode: undefined, ErrorMessage: undefined },
      { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' },
      { ErrorCode: 'InternalFailure', ErrorMessage: undefined },
    ]);
  });

  it('reads another results member (PutRecordBatch) and an answer without it', () => {
    expect(decodeRecordResults(cborEncode({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'a' }] }), 'RequestResponses')).toEqual({ RequestResponses: [{}] });
    expect(decodeRecordResults(cborEncode({ FailedRecordCount: 0 }), 'Records')).toEqual({});
  });

  it.each([
    ['truncated', cborEncode({ Records: [success(1)] }).subarray(0, 20)],
    ['trailing bytes', cborPieces({ Records: [] }, 0x00)],
    ['not a map', cborEncode([1, 2])],
    ['Records not an array', cborEncode({ Records: 'x' })],
    ['a result not a map', cborEncode({ Records: [7] })],
    ['ErrorCode not text', cborEncode({ Records: [{ ErrorCode: 5 }] })],
    ['a misplaced break', cborPieces(0xa1, 'Records', breakByte)],
    ['reserved additional information', cborPieces(0xa1, 'Records', 0x1c)],
    ['an unterminated indefinite array', cborPieces(0xa1, 'Records', indefiniteArray, {})],
    ['a length past the end', cborPieces(0xa1, 'Records', 0x9a, 0xff, 0xff, 0xff, 0xff)],
  ])('refuses an answer with %s', (_, bytes) => {
    expect(() => decodeRecordResults(bytes, 'Records')).toThrow(CborAnswerError);
  });
});
