/**
 * CBOR written by hand into one Buffer, for answers too hot for a generic encoder (PutRecords:
 * up to 500 entries per call, where cborg builds a token per item). The caller sizes the
 * Buffer first (`headBytes`, `textBytes`), then writes. Heads take their shortest form (RFC 8949
 * §4.2.1, preferred serialization), as cborg writes them, so with the members in cborg's order
 * (shorter keys first, RFC 7049 §3.9) the bytes are cborg's.
 */
import { BufferWriter, utf8Length } from './buffer-writer.js';

// RFC 8949 §3.1 major types (the initial byte's top three bits), for this writer and the hand readers.
export const CBOR_UNSIGNED = 0;
export const CBOR_NEGATIVE = 1;
export const CBOR_BYTES = 2;
export const CBOR_TEXT = 3;
export const CBOR_ARRAY = 4;
export const CBOR_MAP = 5;
export const CBOR_TAG = 6;
export const CBOR_SIMPLE_OR_FLOAT = 7;
/** Additional information 31 (RFC 8949 §3.2): an indefinite length (strings, arrays, maps), or "break" under major type 7. */
export const CBOR_INDEFINITE = 31;
/** The "break" stop code that ends an indefinite-length item (major 7, additional information 31). */
export const CBOR_BREAK = 0xff;

/** Bytes of an item head whose argument (length, count, value) is `argument` < 2^32. */
export function headBytes(argument: number): number {
  return argument < 24 ? 1 : argument < 0x100 ? 2 : argument < 0x1_0000 ? 3 : 5;
}

/** Bytes of a text string item. */
export function textBytes(text: string): number {
  const length = utf8Length(text);
  return headBytes(length) + length;
}

export class CborBufferWriter extends BufferWriter {
  head(major: number, argument: number): void {
    const type = major << 5;
    if (argument < 24) {
      this.byte(type | argument);
    } else if (argument < 0x100) {
      this.byte(type | 24);
      this.byte(argument);
    } else if (argument < 0x1_0000) {
      this.byte(type | 25);
      this.bytes.writeUInt16BE(argument, this.reserve(2));
    } else {
      this.byte(type | 26);
      this.bytes.writeUInt32BE(argument, this.reserve(4));
    }
  }

  text(text: string): void {
    const length = utf8Length(text);
    this.head(CBOR_TEXT, length);
    this.utf8(text, length);
  }

  /** The head of an ASCII text string of `length` bytes; returns where its bytes go (see `reserve`). */
  reserveText(length: number): number {
    this.head(CBOR_TEXT, length);
    return this.reserve(length);
  }
}

/** A text string item's bytes, for `BufferWriter.copy`. */
export function encodeText(text: string): Uint8Array {
  const writer = new CborBufferWriter(textBytes(text));
  writer.text(text);
  return writer.finish();
}
