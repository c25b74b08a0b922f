/**
 * The CBOR PutRecords reader against the generic path (cborg + the model walk) on bodies written
 * by cbor2, an encoder independent of both: what it reads must be what the generic path
 * validates, and whatever it does not take must be left to the generic path (undefined), never
 * read differently. The PutRecords answer written by hand must be the bytes cborg writes.
 * End to end through the collector process: test/e2e/put-records-cbor.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { decode as decodeCborBytes } from 'cbor2';
import { cborBlob, cborEncode, cborPieces } from '../helpers/cbor-pieces.js';
import { describe, expect, it } from 'vitest';
import { PutRecordsAnswer } from '../../collector/api/kinesis/put-records.js';
import { readPutRecordsCbor } from '../../collector/api/kinesis/put-records-cbor.js';
import { kinesisValidator } from '../../collector/api/schemas/validate.js';
import { sequenceNumber, shardIdFor } from '../../collector/store/sequence-number.js';
import { StoredPut, type PutResult } from '../../collector/store/streams.js';
import { decodeAwsBody, encodeAwsBody } from '../../shared/aws-wire.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/cbor';

function records(count: number, dataBytes = 20): Array<{ Data: Uint8Array; PartitionKey: string }> {
  return Array.from({ length: count }, (_, i) => ({ Data: cborBlob(randomBytes(dataBytes)), PartitionKey: `key-${i}` }));
}

/** What the generic path hands the operation, with the reader's byte partition keys as strings. */
function generic(body: Buffer): unknown {
  return kinesisValidator.validateRequest('PutRecords', decodeAwsBody(body, 'cbor'), 'cbor');
}

function fast(body: Buffer): unknown {
  const input = readPutRecordsCbor(body);
  if (input === undefined) return undefined;
  return { ...input, Records: input.Records.map((r) => ({ ...r, PartitionKey: r.PartitionKey.toString() })) };
}

describe('CBOR PutRecords reader', () => {
  const takes: Array<[string, Buffer]> = [
    ['the agent’s shape', cborEncode({ StreamName: 'cbor', Records: records(3) })],
    ['members in another order', cborEncode({ Records: [{ PartitionKey: 'k', Data: cborBlob(randomBytes(5)) }, ...records(2)], StreamName: 'cbor' })],
    ['StreamARN instead of StreamName', cborEncode({ StreamARN: STREAM_ARN, Records: records(2) })],
    ['StreamName, StreamARN and StreamId together', cborEncode({ StreamName: 'cbor', StreamARN: STREAM_ARN, StreamId: 'abcdefghij0123456789-abc', Records: records(1) })],
    ['ExplicitHashKey', cborEncode({ StreamName: 'cbor', Records: [{ Data: cborBlob(randomBytes(3)), PartitionKey: 'k', ExplicitHashKey: '340282366920938463463374607431768211455' }, { Data: cborBlob(randomBytes(3)), PartitionKey: 'k', ExplicitHashKey: '0' }] })],
    [
      'unknown members, with nested values, at both levels',
      cborEncode({ Extra: { list: [1, -2, 1.5, 'x', true, null, undefined, new Uint8Array([1])], n: {} }, StreamName: 'cbor', Records: [{ Data: cborBlob(randomBytes(4)), Other: [[], 'y'], PartitionKey: 'k' }] }),
    ],
    ['empty Data, 256-character key, 500 records', cborEncode({ StreamName: 'cbor', Records: [{ Data: new Uint8Array(0), PartitionKey: 'k'.repeat(256) }, ...records(499, 1)] })],
    // A byte string's length in two bytes where one would do: valid CBOR, not the shortest form.
    ['long-form heads', cborPieces(0xa2, 'StreamName', 'cbor', 'Records', 0x81, 0xa2, 'Data', 0x59, 0x00, 0x02, 0x01, 0x02, 'PartitionKey', 'k')],
  ];
  for (const [what, body] of takes) {
    it(`reads ${what} as the generic path does`, () => {
      const read = fast(body);
      expect(read).toBeDefined();
      expect(read).toEqual(generic(body));
    });
  }

  it('gives views of the body, not copies', () => {
    const body = cborEncode({ StreamName: 'cbor', Records: records(2) });
    const input = readPutRecordsCbor(body)!;
    for (const record of input.Records) {
      expect(record.Data.buffer).toBe(body.buffer);
      expect((record.PartitionKey as Buffer).buffer).toBe(body.buffer);
    }
  });

  const one = records(1)[0]!;
  const leaves: Array<[string, Buffer]> = [
    ['an indefinite-length map', cborPieces(0xbf, 'StreamName', 'cbor', 'Records', [one], 0xff)],
    ['an indefinite-length Records array', cborPieces(0xa2, 'StreamName', 'cbor', 'Records', 0x9f, one, 0xff)],
    ['an indefinite-length entry', cborPieces(0xa2, 'StreamName', 'cbor', 'Records', 0x81, 0xbf, 'Data', one.Data, 'PartitionKey', 'k', 0xff)],
    ['an indefinite-length byte string', cborPieces(0xa2, 'StreamName', 'cbor', 'Records', 0x81, 0xa2, 'Data', 0x5f, new Uint8Array([1]), new Uint8Array([2]), 0xff, 'PartitionKey', 'k')],
    ['an indefinite-length text string', cborPieces(0xa2, 'StreamName', 0x7f, 'cb', 'or', 0xff, 'Records', [one])],
    ['a tag', cborPieces(0xa2, 'StreamName', 'cbor', 'Records', 0x81, 0xa2, 'Data', 0xd8, 0x18, one.Data, 'PartitionKey', 'k')],
    ['a tag inside an unknown member', cborPieces(0xa3, 'Extra', 0xc1, 0x00, 'StreamName', 'cbor', 'Records', [one])],
    ['a map with integer keys inside an unknown member', cborPieces(0xa3, 'Extra', 0xa1, 0x01, 0x02, 'StreamName', 'cbor', 'Records', [one])],
    ['a non-ASCII partition key', cborEncode({ StreamName: 'cbor', Records: [{ Data: one.Data, PartitionKey: 'schlüssel' }] })],
    ['a non-ASCII unknown member name', cborEncode({ StreamName: 'cbor', Records: [one], ['\uFEFFRecords']: [] })],
    ['a __proto__ member', cborEncode({ StreamName: 'cbor', Records: [one], ['__proto__']: { StreamName: 'other' } })],
    ['a member given twice', cborPieces(0xa3, 'StreamName', 'cbor', 'StreamName', 'cbor', 'Records', [one])],
    ['a null member', cborEncode({ StreamName: null, StreamARN: STREAM_ARN, Records: [one] })],
    ['an integer key', cborPieces(0xa3, 0x01, 0x02, 'StreamName', 'cbor', 'Records', [one])],
    ['bytes after the body', Buffer.concat([cborEncode({ StreamName: 'cbor', Records: [one] }), Buffer.from([0x00])])],
    ['a truncated body', cborEncode({ StreamName: 'cbor', Records: [one] }).subarray(0, -3)],
    ['no Records', cborEncode({ StreamName: 'cbor' })],
    ['empty Records', cborEncode({ StreamName: 'cbor', Records: [] })],
    ['501 records', cborEncode({ StreamName: 'cbor', Records: records(501, 1) })],
    ['an empty partition key', cborEncode({ StreamName: 'cbor', Records: [{ Data: one.Data, PartitionKey: '' }] })],
    ['a 257-character partition key', cborEncode({ StreamName: 'cbor', Records: [{ Data: one.Data, PartitionKey: 'k'.repeat(257) }] })],
    ['no partition key', cborEncode({ StreamName: 'cbor', Records: [{ Data: one.Data }] })],
    ['no Data', cborEncode({ StreamName: 'cbor', Records: [{ PartitionKey: 'k' }] })],
    ['Data as base64 text', cborEncode({ StreamName: 'cbor', Records: [{ Data: 'AAEC', PartitionKey: 'k' }] })],
    ['a partition key as bytes', cborEncode({ StreamName: 'cbor', Records: [{ Data: one.Data, PartitionKey: new Uint8Array([0x6b]) }] })],
    ['an ExplicitHashKey off the pattern', cborEncode({ StreamName: 'cbor', Records: [{ ...one, ExplicitHashKey: '01' }] })],
    ['a stream name off the pattern', cborEncode({ StreamName: 'no spaces', Records: [one] })],
    ['a stream ARN off the pattern', cborEncode({ StreamARN: 'arn:aws:s3:::bucket', Records: [one] })],
    ['an array body', cborEncode([one])],
    ['an empty body', Buffer.alloc(0)],
  ];
  for (const [what, body] of leaves) {
    it(`leaves ${what} to the generic path`, () => {
      expect(readPutRecordsCbor(body)).toBeUndefined();
    });
  }
});

describe('PutRecords answer', () => {
  const cases: Array<[string, PutResult[]]> = [
    ['all stored', Array.from({ length: 500 }, (_, i) => new StoredPut(i % 4, i * 1_000_003, false))],
    ['the largest shard numbers and ordinals', [new StoredPut(99_999_999_999, Number.MAX_SAFE_INTEGER, false), new StoredPut(1, 2 ** 32 + 7, false)]],
    [
      'some throttled, encrypted',
      [
        new StoredPut(1, 7, true),
        { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded for shard shardId-000000000001 in stream s under account 000000000000.' },
        { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' },
      ],
    ],
    ['one record', [new StoredPut(0, 0, false)]],
    // Not a message the store writes; it checks the writer's non-ASCII path.
    ['a non-ASCII message', [{ errorCode: 'InternalFailure', errorMessage: `Grüße ✓ 𝄞 "quoted" \\ ${'x'.repeat(300)}` }]],
    ['nothing stored', [{ errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' }, { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' }]],
  ];
  for (const [what, results] of cases) {
    it(`writes what cborg writes: ${what}`, () => {
      const answer = new PutRecordsAnswer(results);
      const byHand = answer.encode('cbor');
      const generic = encodeAwsBody(answer.toOutput(), 'cbor');
      expect(decodeCborBytes(byHand)).toEqual(decodeCborBytes(generic));
      expect(byHand.equals(generic)).toBe(true);
      const decoded = decodeCborBytes(byHand) as { FailedRecordCount: number; Records: Array<Record<string, string>> };
      expect(decoded.FailedRecordCount).toBe(results.filter((r) => 'errorCode' in r).length);
      results.forEach((result, i) => {
        if (result instanceof StoredPut) expect(decoded.Records[i]).toEqual({ ShardId: shardIdFor(result.shardNumber), SequenceNumber: sequenceNumber(result.shardNumber, result.ordinal) });
      });
    });
  }

  for (const [what, results] of cases) {
    it(`writes what the generic JSON encoder writes: ${what}`, () => {
      const answer = new PutRecordsAnswer(results);
      const byHand = answer.encode('json');
      expect(byHand.toString('utf8')).toBe(encodeAwsBody(answer.toOutput(), 'json').toString('utf8'));
      expect(JSON.parse(byHand.toString('utf8'))).toEqual(answer.toOutput());
    });
  }

  it('answers JSON with sequence numbers and shard ids as the store names them', () => {
    const answer = new PutRecordsAnswer([new StoredPut(0, 3, false)]);
    expect(JSON.parse(answer.encode('json').toString('utf8'))).toEqual({ FailedRecordCount: 0, Records: [{ SequenceNumber: sequenceNumber(0, 3), ShardId: shardIdFor(0) }] });
  });
});
