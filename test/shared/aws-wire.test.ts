/**
 * CBOR bodies with indefinite-length (chunked) strings, which RFC 8949 §3.2.3 allows and cborg
 * refuses: the collector reads them as the same value written with definite lengths. cbor2, an
 * independent encoder, writes the definite form to compare with.
 */
import { describe, expect, it } from 'vitest';
import { decodeAwsBody, joinChunkedStrings } from '../../shared/aws-wire.js';
import { cborPieces } from '../helpers/cbor-pieces.js';

describe('chunked CBOR strings', () => {
  const bytes = (...values: number[]) => new Uint8Array(values);
  const cases: Array<[string, Buffer, unknown]> = [
    ['a chunked byte string', cborPieces(0xa1, 'Data', 0x5f, bytes(1, 2), bytes(), bytes(3), 0xff), { Data: Buffer.from([1, 2, 3]) }],
    ['a chunked text string', cborPieces(0xa1, 'Name', 0x7f, 'Grü', 'ße', 0xff), { Name: 'Grüße' }],
    ['a chunked member name', cborPieces(0xa1, 0x7f, 'Stream', 'Name', 0xff, 'x'), { StreamName: 'x' }],
    [
      'chunked strings inside indefinite arrays and maps and a tag',
      cborPieces(0xbf, 'Records', 0x9f, 0xa1, 'Data', 0x5f, bytes(9), 0xff, 0xff, 'At', 0xc1, 0x19, 0x03, 0xe8, 0xff),
      { Records: [{ Data: Buffer.from([9]) }], At: new Date(1000) },
    ],
    ['an empty chunked string', cborPieces(0xa1, 'Data', 0x5f, 0xff), { Data: Buffer.alloc(0) }],
    ['a 300-byte chunked string (a two-byte head once joined)', cborPieces(0xa1, 'Data', 0x5f, new Uint8Array(200).fill(7), new Uint8Array(100).fill(7), 0xff), { Data: Buffer.alloc(300, 7) }],
  ];
  for (const [what, body, expected] of cases) {
    it(`reads ${what}`, () => {
      expect(decodeAwsBody(body, 'cbor')).toEqual(expected);
    });
  }

  it('leaves bodies without chunked strings, or not well-formed, to cborg', () => {
    expect(joinChunkedStrings(cborPieces({ a: 1, b: [new Uint8Array([1])] }))).toBeUndefined();
    // A byte-string chunk inside a text string, a missing break, an indefinite integer.
    for (const body of [cborPieces(0xa1, 'a', 0x7f, bytes(1), 0xff), cborPieces(0xa1, 'a', 0x5f, bytes(1)), Buffer.from([0xa1, 0x61, 0x61, 0x1f])]) {
      expect(joinChunkedStrings(body)).toBeUndefined();
      expect(() => decodeAwsBody(body, 'cbor')).toThrow(expect.objectContaining({ code: 'SerializationException' }));
    }
  });
});
