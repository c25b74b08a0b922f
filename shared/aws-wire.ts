/**
 * Bodies of the AWS JSON 1.1 and CBOR 1.1 protocols, the two wire formats Kinesis and Firehose
 * speak. Inside Riffle a blob is a Buffer and a timestamp a Date; this module is the one place
 * that turns them into wire values and back.
 *
 * JSON 1.1: blobs are base64 strings and timestamps epoch seconds with a millisecond fraction
 * (`1506440188.749`, what the AWS SDKs write and parse). Decoding leaves them as strings and
 * numbers: only the operation's request shape knows which member is a blob or a timestamp.
 *
 * CBOR 1.1 (the AWS SDK for Java's default for Kinesis): blobs are byte strings and timestamps
 * tag 1 around an integer count of epoch MILLISECONDS. RFC 8949 §3.4.2 says tag 1 counts
 * seconds, but the Java SDKs (v1 and v2) write and read milliseconds and the service answers
 * the same way (aws/aws-sdk-java-v2#4661, #184; localstack#11286 had to match it), so we follow
 * AWS, not the RFC. Decoding yields Buffers and Dates.
 */
import { decode as decodeCbor, encode as encodeCbor, Token, Type, type DecodeOptions, type EncodeOptions } from 'cborg';
import { CBOR_ARRAY, CBOR_BREAK, CBOR_BYTES, CBOR_INDEFINITE, CBOR_MAP, CBOR_TAG, CBOR_TEXT, CborBufferWriter, headBytes } from './cbor-buffer.js';
import { AwsError, type ErrorCode } from './errors.js';
import { encodeJson, JsonText, parseJsonBuffer } from './json-buffer.js';

export type WireProtocol = 'json' | 'cbor';

export const jsonContentType = 'application/x-amz-json-1.1';
export const cborContentType = 'application/x-amz-cbor-1.1';

/**
 * Request media types and their protocol. `application/x-amz-json-1.0` and `application/json`
 * carry the same JSON bodies; clients such as curl scripts send them.
 */
const protocolByMediaType: ReadonlyMap<string, WireProtocol> = new Map([
  [jsonContentType, 'json'],
  ['application/x-amz-json-1.0', 'json'],
  ['application/json', 'json'],
  [cborContentType, 'cbor'],
]);

/** The media type of a Content-Type header, lower-cased and without parameters. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** The wire protocol a Content-Type selects, or undefined when it selects none. */
export function wireProtocolOf(contentType: string | undefined): WireProtocol | undefined {
  return protocolByMediaType.get(mediaTypeOf(contentType));
}

// Tag 1 carries epoch milliseconds, as AWS writes it (see the header). Other tags are refused.
const cborDecodeOptions: DecodeOptions = {
  tags: {
    1: (decodeContent) => {
      const millis = decodeContent();
      if (typeof millis !== 'number') throw new TypeError('tag 1 must hold a number');
      return new Date(millis);
    },
  },
};
const cborEncodeOptions: EncodeOptions = {
  typeEncoders: {
    Date: (date: unknown) => {
      const millis = (date as Date).getTime();
      return [new Token(Type.tag, 1), millis < 0 ? new Token(Type.negint, millis) : new Token(Type.uint, millis)];
    },
  },
};

/**
 * Decodes a request body into the operation's input. An empty body is an empty structure (AWS
 * answers it with SerializationException; SDKs always send `{}`, so accepting it only spares
 * hand-written clients). Anything else that is not a structure — malformed bytes, `[]`, `"x"`,
 * `null` — is AWS's `SerializationException`, which AWS sends without a message.
 */
export function decodeAwsBody(body: Buffer, protocol: WireProtocol): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = protocol === 'json' ? parseJson(body) : fromCborWire(decodeCborBody(body));
  } catch {
    throw new AwsError('SerializationException', '');
  }
  if (!isStructure(value)) throw new AwsError('SerializationException', '');
  return value;
}

/**
 * cborg refuses indefinite-length (chunked) byte and text strings, which RFC 8949 §3.2.3 allows
 * and AWS's CBOR readers take; a body it refuses is read again with its chunked strings joined.
 */
function decodeCborBody(body: Buffer): unknown {
  try {
    return decodeCbor(body, cborDecodeOptions);
  } catch (error) {
    const joined = joinChunkedStrings(body);
    if (joined === undefined) throw error;
    return decodeCbor(joined, cborDecodeOptions);
  }
}

/** Nesting followed when joining chunked strings; cborg applies its own limits afterwards. */
const MAX_JOIN_DEPTH = 256;

/**
 * `body` with every indefinite-length byte or text string rewritten as one definite string of
 * its chunks' bytes; undefined when it has none or is not well-formed CBOR (cborg's error then
 * stands). Everything else is copied as it is.
 */
export function joinChunkedStrings(body: Buffer): Buffer | undefined {
  const pieces: Buffer[] = [];
  let at = 0;
  let joined = false;
  const fail = (): never => {
    throw new RangeError('not well-formed CBOR');
  };
  /** Reads an item head at `at`: its major type, additional information and argument (undefined when indefinite). */
  const head = (): { major: number; info: number; argument: number | undefined } => {
    const initial = body[at] ?? fail();
    const major = initial >> 5;
    const info = initial & 0x1f;
    at++;
    if (info < 24) return { major, info, argument: info };
    if (info === CBOR_INDEFINITE) return { major, info, argument: undefined };
    const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : fail();
    if (at + width > body.length) fail();
    const argument = width === 8 ? Number(body.readBigUInt64BE(at)) : body.readUIntBE(at, width);
    at += width;
    return { major, info, argument };
  };
  const item = (depth: number): void => {
    if (depth > MAX_JOIN_DEPTH) fail();
    const start = at;
    const { major, info, argument } = head();
    switch (major) {
      case CBOR_BYTES:
      case CBOR_TEXT: {
        if (argument !== undefined) {
          if (at + argument > body.length) fail();
          at += argument;
          pieces.push(body.subarray(start, at));
          return;
        }
        const chunks: Buffer[] = [];
        let length = 0;
        while (body[at] !== CBOR_BREAK) {
          const chunk = head();
          if (chunk.major !== major || chunk.argument === undefined || at + chunk.argument > body.length) fail();
          chunks.push(body.subarray(at, at + chunk.argument!));
          length += chunk.argument!;
          at += chunk.argument!;
        }
        at++; // the break
        const definite = new CborBufferWriter(headBytes(length));
        definite.head(major, length);
        pieces.push(definite.finish(), ...chunks);
        joined = true;
        return;
      }
      case CBOR_ARRAY:
      case CBOR_MAP: {
        pieces.push(body.subarray(start, at));
        const perEntry = major === CBOR_MAP ? 2 : 1;
        if (argument !== undefined) {
          for (let index = 0; index < argument * perEntry; index++) item(depth + 1);
          return;
        }
        while (body[at] !== CBOR_BREAK) item(depth + 1);
        pieces.push(body.subarray(at, at + 1));
        at++;
        return;
      }
      case CBOR_TAG:
        if (argument === undefined) fail();
        pieces.push(body.subarray(start, at));
        item(depth + 1);
        return;
      default:
        // Integers, simple values and floats: the head is the whole item. Neither has an
        // indefinite form; a break outside an indefinite item is malformed too.
        if (info === CBOR_INDEFINITE) fail();
        pieces.push(body.subarray(start, at));
    }
  };
  try {
    item(0);
    if (at !== body.length) fail();
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return joined ? Buffer.concat(pieces) : undefined;
}

/**
 * Below this size a body is parsed as one string by JSON.parse, three times faster than
 * `parseJsonBuffer` (a 55 KB PutRecords answer for 500 records: 0.11 ms against 0.35 ms);
 * above it the string would land in V8's large-object space, which `parseJsonBuffer` avoids.
 */
const WHOLE_STRING_JSON_BYTES = 64 * 1024;

function parseJson(body: Buffer): unknown {
  return body.length < WHOLE_STRING_JSON_BYTES ? JSON.parse(body.toString('utf8')) : parseJsonBuffer(body);
}

/** Encodes an operation's output; `undefined` (an operation without output) is an empty body. */
export function encodeAwsBody(value: unknown, protocol: WireProtocol): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  return protocol === 'json' ? encodeJson(value, toJsonScalar) : Buffer.from(encodeCbor(toCborWire(value), cborEncodeOptions));
}

/** `{"__type": code, "message": message}`; AWS leaves `message` out when it has none. */
export function encodeAwsError(code: ErrorCode, message: string, protocol: WireProtocol): Buffer {
  return encodeAwsBody(message === '' ? { __type: code } : { __type: code, message }, protocol);
}

function isStructure(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Blobs travel as base64 and timestamps as epoch seconds in AWS JSON 1.1. */
function toJsonScalar(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return new JsonText(`"${base64}"`, base64); // base64 needs no escaping
  }
  if (value instanceof Date) return value.getTime() / 1000;
  return value;
}

/** Drops undefined members, which CBOR has no place for in an AWS structure. */
function toCborWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCborWire);
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && isPlainObject(value)) {
    const wire: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      if (member !== undefined) wire[name] = toCborWire(member);
    }
    return wire;
  }
  return value;
}

/** Byte strings decode as Uint8Arrays; inside Riffle a blob is a Buffer (same memory, no copy). */
function fromCborWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = fromCborWire(value[index]);
    return value;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && isPlainObject(value)) {
    for (const name of Object.keys(value)) value[name] = fromCborWire(value[name]);
  }
  return value;
}
