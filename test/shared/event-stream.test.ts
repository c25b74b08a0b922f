/**
 * Event-stream framing checked against the AWS SDK's own codec (@smithy/core): what we encode it
 * decodes, what it encodes we decode — across arbitrary chunk boundaries, a large message in many
 * small chunks included — and a flipped bit is caught.
 */
import { randomBytes } from 'node:crypto';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { describe, expect, it } from 'vitest';
import { EventStreamDecoder, EventStreamFormatError, encodeEventMessage } from '../../shared/event-stream.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

describe('event-stream messages', () => {
  it('encodes what the SDK codec decodes', () => {
    const payload = Buffer.from(JSON.stringify({ Records: [], MillisBehindLatest: 0 }));
    const decoded = codec.decode(encodeEventMessage({ ':message-type': 'event', ':event-type': 'SubscribeToShardEvent' }, payload));
    expect(decoded.headers[':event-type']).toEqual({ type: 'string', value: 'SubscribeToShardEvent' });
    expect(Buffer.from(decoded.body).equals(payload)).toBe(true);
  });

  it('decodes what the SDK codec encodes, whatever the chunking', () => {
    const messages = Array.from({ length: 5 }, (_, i) =>
      codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'event' },
          flag: { type: 'boolean', value: i % 2 === 0 },
          n: { type: 'integer', value: -i * 1000 },
          blob: { type: 'binary', value: Buffer.from([i, 255]) },
        },
        body: Buffer.from(`payload-${i}`.repeat(i * 100)),
      }),
    );
    const stream = Buffer.concat(messages.map((m) => Buffer.from(m)));
    for (const chunkSize of [1, 7, 64, stream.length]) {
      const decoder = new EventStreamDecoder();
      const out = [];
      for (let at = 0; at < stream.length; at += chunkSize) out.push(...decoder.push(stream.subarray(at, at + chunkSize)));
      expect(out.map((m) => m.payload.toString())).toEqual(messages.map((_, i) => `payload-${i}`.repeat(i * 100)));
      expect(out[3]!.headers).toEqual({ ':message-type': 'event', flag: false, n: -3000, blob: Buffer.from([3, 255]) });
    }
  });

  it('decodes a large message arriving in many small chunks, and byte by byte, exactly', () => {
    // 1 MiB: byte by byte, joining everything pending on each chunk would copy about 5·10^11
    // bytes and run far past the test's timeout; joining once per prelude and message does not.
    const large = Buffer.from(randomBytes(1024 * 1024));
    const small = Buffer.from('after the large one');
    const encode = (body: Buffer) => Buffer.from(codec.encode({ headers: { ':message-type': { type: 'string', value: 'event' } }, body }));
    const stream = Buffer.concat([encode(large), encode(small)]);
    for (const chunkSize of [1, 13, 1000]) {
      const decoder = new EventStreamDecoder();
      const out = [];
      for (let at = 0; at < stream.length; at += chunkSize) out.push(...decoder.push(stream.subarray(at, at + chunkSize)));
      expect(out).toHaveLength(2);
      expect(out[0]!.headers).toEqual({ ':message-type': 'event' });
      expect(out[0]!.payload.equals(large), `payload intact in ${chunkSize}-byte chunks`).toBe(true);
      expect(out[1]!.payload.equals(small)).toBe(true);
    }
  });

  it('refuses a corrupted message', () => {
    const message = encodeEventMessage({ ':message-type': 'event' }, Buffer.from('data'));
    message[message.length - 6]! ^= 1;
    expect(() => new EventStreamDecoder().push(message)).toThrow(EventStreamFormatError);
  });
});
