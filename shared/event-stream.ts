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
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
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
