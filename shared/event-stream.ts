/**
 * `application/vnd.amazon.eventstream` messages, as SubscribeToShard answers:
 *
 *     total length (u32 BE) · headers length (u32 BE) · prelude CRC32 (u32 BE)
 *     headers · payload · message CRC32 (u32 BE, over everything before it)
 *
 * A header is name length (u8) · name · value type (u8) · value; only string values (type 7,
 * u16 BE length) are written — all the event headers SubscribeToShard uses are strings.
 * CRC32 is the IEEE polynomial (zlib's).
 */
import { crc32 } from 'node:zlib';

export const eventStreamContentType = 'application/vnd.amazon.eventstream';

const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const STRING_HEADER_TYPE = 7;
/** The event stream specification caps a message at 16 MiB and its headers at 128 KiB. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_HEADERS_BYTES = 128 * 1024;

export function encodeEventMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const encodedHeaders = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const nameBytes = Buffer.from(name, 'utf8');
      const valueBytes = Buffer.from(value, 'utf8');
      const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
      header.writeUInt8(nameBytes.length, 0);
      nameBytes.copy(header, 1);
      header.writeUInt8(STRING_HEADER_TYPE, 1 + nameBytes.length);
      header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
      valueBytes.copy(header, 4 + nameBytes.length);
      return header;
    }),
  );
  const total = PRELUDE_BYTES + encodedHeaders.length + payload.length + CRC_BYTES;
  if (encodedHeaders.length > MAX_HEADERS_BYTES || total > MAX_MESSAGE_BYTES) throw new RangeError(`event stream message of ${total} bytes is over the limit`);
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(encodedHeaders.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  encodedHeaders.copy(message, PRELUDE_BYTES);
  payload.copy(message, PRELUDE_BYTES + encodedHeaders.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - CRC_BYTES)), total - CRC_BYTES);
  return message;
}

/** An event of a modeled type, with a JSON payload. */
export function encodeEvent(eventType: string, payload: Buffer): Buffer {
  return encodeEventMessage({ ':message-type': 'event', ':event-type': eventType, ':content-type': 'application/json' }, payload);
}

/** A modeled exception (`:exception-type` is the error's shape name), with a JSON `{message}` payload. */
export function encodeExceptionEvent(exceptionType: string, message: string): Buffer {
  return encodeEventMessage(
    { ':message-type': 'exception', ':exception-type': exceptionType, ':content-type': 'application/json' },
    Buffer.from(JSON.stringify({ message })),
  );
}

export interface EventMessage {
  headers: Record<string, string | number | boolean | Buffer>;
  payload: Buffer;
}

export class EventStreamFormatError extends Error {}

/** Byte length of each header value type after the type byte (6 and 7 carry a u16 length instead). */
const FIXED_VALUE_BYTES: Record<number, number> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };

/**
 * Splits a byte stream into messages as chunks arrive, checking both CRCs; a bad prelude or CRC
 * throws EventStreamFormatError (the stream cannot be resynchronised after that).
 */
export class EventStreamDecoder {
  // Bytes not yet decoded, kept as the chunks they arrived in and joined only once a prelude or a
  // whole message is there: joining on every chunk would copy a large message arriving in many
  // small chunks once per chunk, quadratically.
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): EventMessage[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const messages: EventMessage[] = [];
    while (this.pendingBytes >= PRELUDE_BYTES) {
      const prelude = this.leading(PRELUDE_BYTES);
      const total = prelude.readUInt32BE(0);
      const headersLength = prelude.readUInt32BE(4);
      if (crc32(prelude.subarray(0, 8)) !== prelude.readUInt32BE(8)) throw new EventStreamFormatError('prelude checksum mismatch');
      if (total > MAX_MESSAGE_BYTES || total < PRELUDE_BYTES + headersLength + CRC_BYTES) throw new EventStreamFormatError(`bad message length ${total}`);
      if (this.pendingBytes < total) break;
      const message = this.take(total);
      if (crc32(message.subarray(0, total - CRC_BYTES)) !== message.readUInt32BE(total - CRC_BYTES)) throw new EventStreamFormatError('message checksum mismatch');
      messages.push({
        headers: decodeHeaders(message.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headersLength)),
        payload: Buffer.from(message.subarray(PRELUDE_BYTES + headersLength, total - CRC_BYTES)),
      });
    }
    return messages;
  }

  /** The first `length` pending bytes (there are that many), the leading chunks joined into one if they must be. */
  private leading(length: number): Buffer {
    let joined = 0;
    let count = 0;
    while (joined < length) joined += this.pending[count++]!.length;
    if (count > 1) this.pending.splice(0, count, Buffer.concat(this.pending.slice(0, count), joined));
    return this.pending[0]!.subarray(0, length);
  }

  /** Removes and returns the first `length` pending bytes (there are that many). */
  private take(length: number): Buffer {
    const taken = this.leading(length);
    const rest = this.pending[0]!.subarray(length);
    if (rest.length > 0) this.pending[0] = rest;
    else this.pending.shift();
    this.pendingBytes -= length;
    return taken;
  }
}

function decodeHeaders(bytes: Buffer): EventMessage['headers'] {
  const headers: EventMessage['headers'] = {};
  let at = 0;
  while (at < bytes.length) {
    const nameLength = bytes.readUInt8(at);
    const name = bytes.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = bytes.readUInt8(at++);
    if (type === 6 || type === STRING_HEADER_TYPE) {
      const length = bytes.readUInt16BE(at);
      const value = bytes.subarray(at + 2, at + 2 + length);
      headers[name] = type === STRING_HEADER_TYPE ? value.toString('utf8') : Buffer.from(value);
      at += 2 + length;
      continue;
    }
    const size = FIXED_VALUE_BYTES[type];
    if (size === undefined || at + size > bytes.length) throw new EventStreamFormatError(`bad header ${name}`);
    headers[name] = type === 0 ? true : type === 1 ? false : size <= 4 && size > 0 ? bytes.readIntBE(at, size) : Buffer.from(bytes.subarray(at, at + size));
    at += size;
  }
  return headers;
}
