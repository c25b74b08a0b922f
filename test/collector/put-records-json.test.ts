/**
 * The JSON PutRecords reader against the generic path (JSON.parse + the model walk): what it
 * reads must be what the generic path validates; what it does not take must be left to the
 * generic path (undefined), never read differently. Base64 is compared on random strings in
 * both directions: whatever the generic path accepts the reader takes with the same bytes, and
 * whatever it refuses the reader leaves to it. End to end, every SDK test's PutRecords goes
 * through it (test/e2e/protocol.test.ts, put-records-cbor.test.ts compares its errors).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readPutRecordsJson } from '../../collector/api/kinesis/put-records-json.js';
import { kinesisValidator } from '../../collector/api/schemas/validate.js';
import { decodeAwsBody } from '../../shared/aws-wire.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/json';

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function records(count: number, dataBytes = 20): Array<{ Data: string; PartitionKey: string }> {
  return Array.from({ length: count }, (_, i) => ({ Data: randomBytes(dataBytes + (i % 3)).toString('base64'), PartitionKey: `key-${i}` }));
}

/** What the generic path hands the operation, or the error code it answers. */
function generic(body: Buffer): unknown {
  try {
    return kinesisValidator.validateRequest('PutRecords', decodeAwsBody(body, 'json'), 'json');
  } catch (error) {
    return { refused: (error as { code?: string }).code };
  }
}

/** The reader's input with its byte partition keys as strings, comparable with the generic path's. */
function fast(body: Buffer): unknown {
  const input = readPutRecordsJson(body);
  if (input === undefined) return undefined;
  return { ...input, Records: input.Records.map((r) => ({ ...r, PartitionKey: r.PartitionKey.toString() })) };
}

describe('JSON PutRecords reader', () => {
  const body = (streamName: string, entries: unknown[]) => json({ StreamName: streamName, Records: entries });
  const takes: Array<[string, Buffer]> = [
    ['the SDK’s shape', body('json', records(3))],
    ['members in another order', json({ Records: [{ PartitionKey: 'k', Data: 'AAEC' }, ...records(2)], StreamName: 'json' })],
    ['StreamARN instead of StreamName', json({ StreamARN: STREAM_ARN, Records: records(2) })],
    ['all three stream members', json({ StreamName: 'json', StreamARN: STREAM_ARN, StreamId: 'abcdefghij0123456789-abc', Records: records(1) })],
    ['ExplicitHashKey', body('json', [{ Data: 'AA==', PartitionKey: 'k', ExplicitHashKey: '340282366920938463463374607431768211455' }, { Data: 'AAA=', PartitionKey: 'k', ExplicitHashKey: '0' }])],
    ['whitespace between every token', Buffer.from(' {\n\t"StreamName" : "json" ,\r\n "Records" : [ { "Data" : "AAEC" , "PartitionKey" : "k" } , {"Data":"","PartitionKey":"k2"} ] }\n ')],
    ['empty Data, 256-character key, 500 records', body('json', [{ Data: '', PartitionKey: 'k'.repeat(256) }, ...records(499, 1)])],
    ['large records', body('json', records(3, 100_000))],
  ];
  for (const [what, input] of takes) {
    it(`reads ${what} as the generic path does`, () => {
      const read = fast(input);
      expect(read).toBeDefined();
      expect(read).toEqual(generic(input));
    });
  }

  const one = { Data: 'AAEC', PartitionKey: 'k' };
  const leaves: Array<[string, Buffer]> = [
    ['an unknown member', json({ StreamName: 'json', Records: [one], Extra: 1 })],
    ['an unknown member of an entry', body('json', [{ ...one, Extra: 'x' }])],
    ['a member given twice', Buffer.from('{"StreamName":"json","StreamName":"json","Records":[{"Data":"AAEC","PartitionKey":"k"}]}')],
    ['an escape in a string', Buffer.from('{"StreamName":"json","Records":[{"Data":"AAEC","PartitionKey":"\\u006b"}]}')],
    ['an escaped member name', Buffer.from('{"Stream\\u004eame":"json","Records":[{"Data":"AAEC","PartitionKey":"k"}]}')],
    ['a non-ASCII partition key', body('json', [{ Data: 'AAEC', PartitionKey: 'schlüssel' }])],
    ['a null member', json({ StreamName: null, StreamARN: STREAM_ARN, Records: [one] })],
    ['a number for a string', body('json', [{ Data: 'AAEC', PartitionKey: 5 }])],
    ['bytes after the body', Buffer.concat([body('json', [one]), Buffer.from('x')])],
    ['a truncated body', body('json', [one]).subarray(0, -2)],
    ['no Records', json({ StreamName: 'json' })],
    ['empty Records', body('json', [])],
    ['501 records', body('json', records(501, 1))],
    ['an empty partition key', body('json', [{ Data: 'AAEC', PartitionKey: '' }])],
    ['a 257-character partition key', body('json', [{ Data: 'AAEC', PartitionKey: 'k'.repeat(257) }])],
    ['no partition key', body('json', [{ Data: 'AAEC' }])],
    ['no Data', body('json', [{ PartitionKey: 'k' }])],
    ['an ExplicitHashKey off the pattern', body('json', [{ ...one, ExplicitHashKey: '01' }])],
    ['a stream name off the pattern', body('no spaces', [one])],
    ['an array body', json([one])],
    ['an empty body', Buffer.alloc(0)],
    ['an empty object', json({})],
  ];
  for (const [what, input] of leaves) {
    it(`leaves ${what} to the generic path`, () => {
      expect(readPutRecordsJson(input)).toBeUndefined();
    });
  }

  it('takes exactly the Base64 the generic path takes, with the same bytes (random strings)', () => {
    const alphabet = 'AQgw09+/=-_ .';
    const crafted = ['AB==', 'AAB=', 'A0==', 'AA9=', 'A===', '====', 'AA=A', '=AAA', 'AAA', 'AA-A', 'AA_A', 'AA A', 'AA==AA==', ''];
    let taken = 0;
    for (let round = 0; round < 6000; round++) {
      // Valid Base64 of random bytes, then (two rounds in three) one character replaced.
      const valid = randomBytes(round % 10).toString('base64');
      let data = valid;
      if (round % 3 !== 0 && valid.length > 0) {
        const at = Math.floor(Math.random() * valid.length);
        data = valid.slice(0, at) + alphabet[Math.floor(Math.random() * alphabet.length)] + valid.slice(at + 1);
      }
      if (round < crafted.length) data = crafted[round]!;
      const input = body('json', [{ Data: data, PartitionKey: 'k' }]);
      const read = fast(input);
      const expected = generic(input);
      if (read === undefined) {
        expect(expected, data).toMatchObject({ refused: 'SerializationException' });
      } else {
        taken++;
        expect(read, data).toEqual(expected);
      }
    }
    expect(taken).toBeGreaterThan(2000);
    expect(taken).toBeLessThan(5000);
  });
});
