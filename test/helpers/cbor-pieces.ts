/**
 * CBOR request bodies for tests, written with cbor2 — an encoder independent of the collector's
 * readers — and, where a test needs encodings cbor2 does not choose (indefinite lengths, chunked
 * strings), pieced together from raw head bytes and encoded items.
 */
import { encode as encodeCborBytes } from 'cbor2';

/** cbor2 writes a Buffer as its toJSON() map: blobs go in as plain Uint8Arrays. */
export function cborBlob(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function cborEncode(value: unknown): Buffer {
  return Buffer.from(encodeCborBytes(value));
}

/**
 * Raw CBOR pieces: numbers are single bytes (heads, breaks), Buffers bytes as they are (an
 * integer item is `cborEncode(n)`), anything else an encoded item.
 */
export function cborPieces(...pieces: unknown[]): Buffer {
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'number' ? Buffer.from([piece]) : Buffer.isBuffer(piece) ? piece : cborEncode(piece))));
}
