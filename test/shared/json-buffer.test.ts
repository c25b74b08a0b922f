import { describe, expect, it } from 'vitest';
import { encodeJson, JsonText, parseJsonBuffer } from '../../shared/json-buffer.js';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '€', '😀', '\u2028', '__proto__'];

function randomValue(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 5 : 7));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return [0, -1, 1.5, 1e21, -2.5e-7, 123456789][Math.floor(next() * 6)];
    case 3:
    case 4:
      return Array.from({ length: Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 4); i > 0; i--) object[String(randomValue(next, 9))] = randomValue(next, depth + 1);
      return object;
    }
  }
}

describe('parseJsonBuffer', () => {
  it('gives what JSON.parse gives, for generated documents with escapes, unicode and odd keys', () => {
    const next = random(7);
    for (let i = 0; i < 3000; i++) {
      const text = JSON.stringify(randomValue(next, 0), null, next() < 0.3 ? 2 : undefined);
      expect(parseJsonBuffer(Buffer.from(text))).toEqual(JSON.parse(text));
    }
  });

  it('keeps "__proto__" as an own member, as JSON.parse does', () => {
    const parsed = parseJsonBuffer(Buffer.from('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses every input JSON.parse refuses', () => {
    const bad = ['', '{', '{"a":1,}', '[1,]', '{"a" 1}', '"\u0001"', '"abc', '01', '1.', '.5', '+1', '-', 'tru', 'nul', '{"a":1}x', '[1 2]', '{a:1}', "'x'", '"\\x"', '"\\u12"', '{"a":1}}', 'NaN'];
    for (const text of bad) {
      expect(() => JSON.parse(text), text).toThrow();
      expect(() => parseJsonBuffer(Buffer.from(text)), text).toThrow();
    }
  });

  it('refuses truncations of a valid document', () => {
    const text = JSON.stringify({ StreamName: 's', Records: [{ Data: 'aGVsbG8=', PartitionKey: 'k\u00e9\\"' }] });
    for (let cut = 0; cut < text.length; cut++) {
      expect(() => parseJsonBuffer(Buffer.from(text.slice(0, cut))), text.slice(0, cut)).toThrow();
    }
  });
});

describe('encodeJson', () => {
  const replacer = (value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value instanceof Date ? value.getTime() / 1000 : value);

  it('writes what JSON.stringify writes, also across its 64 KiB pieces', () => {
    const next = random(11);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(next, 0);
      expect(encodeJson(value, replacer).toString()).toBe(JSON.stringify(value));
    }
    const big = { Records: Array.from({ length: 3000 }, (_, i) => ({ PartitionKey: `k€${i}`, Data: Buffer.alloc(100, i), At: new Date(1_700_000_000_123 + i), Skip: undefined })) };
    expect(encodeJson(big, replacer).toString()).toBe(JSON.stringify(big, (_key, value: unknown) => (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' ? Buffer.from((value as { data: number[] }).data).toString('base64') : typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) / 1000 : value)));
  });

  it('writes long arrays of scalar-only structures (PutRecords answers) as JSON.stringify does, mixed with mapped ones', () => {
    const next = random(7);
    const text = () => Array.from({ length: Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    const answers = Array.from({ length: 500 }, (_, i) =>
      i % 97 === 5
        ? { ErrorCode: text(), ErrorMessage: text(), Missing: undefined }
        : i % 131 === 7
          ? { SequenceNumber: String(i), Data: Buffer.from(text()) } // a member to map: written by hand
          : { SequenceNumber: `4963${String(i).padStart(52, '0')}`, ShardId: `shardId-${text()}`, N: [0, -1.5, Number.NaN, 1e21][i % 4], Ok: i % 2 === 0, None: null },
    );
    const value = { FailedRecordCount: 3, Records: answers };
    const expected = JSON.stringify(value, (_key, member: unknown) => (member && typeof member === 'object' && (member as { type?: string }).type === 'Buffer' ? Buffer.from((member as { data: number[] }).data).toString('base64') : member));
    expect(encodeJson(value, replacer).toString()).toBe(expected);
    // Strings past a piece's worth in one slice: still the same text.
    const long = Array.from({ length: 200 }, (_, i) => ({ Message: 'x'.repeat(2000 + i) }));
    expect(encodeJson(long, replacer).toString()).toBe(JSON.stringify(long));
  });

  it('writes JsonText as it is, in flat records and nested ones alike', () => {
    const asText = (value: unknown) => (value instanceof Uint8Array ? new JsonText(`"${Buffer.from(value).toString('base64')}"`, Buffer.from(value).toString('base64')) : replacer(value));
    const records = Array.from({ length: 200 }, (_, i) => ({ Data: Buffer.alloc(i, i), PartitionKey: `k"${i}\u2028`, N: i / 7, Ok: i % 2 === 0, None: null, Nested: i % 50 === 0 ? { Blob: Buffer.from('x') } : undefined }));
    const value = { Records: records, Tail: Buffer.from('tail') };
    expect(encodeJson(value, asText).toString()).toBe(encodeJson(value, replacer).toString());
    expect(JSON.parse(encodeJson(value, asText).toString())).toEqual(JSON.parse(encodeJson(value, replacer).toString()));
  });
});
