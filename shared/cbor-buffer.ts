/**
 * CBOR written by hand into one Buffer, for answers too hot for a generic encoder (PutRecords:
 * up to 500 entries per call, where cborg builds a token per item). The caller sizes the
 * Buffer first (`headBytes`, `textBytes`), then writes. Heads take their shortest form (RFC 8949
 * §4.2.1, preferred serialization), as cborg writes them, so with the members in cborg's order
 * (shorter keys first, RFC 7049 §3.9) the bytes are cborg's.
 */
export const CBOR_UNSIGNED = 0;
export const CBOR_TEXT = 3;
export const CBOR_ARRAY = 4;
export const CBOR_MAP = 5;

/** Bytes of an item head whose argument (length, count, value) is `argument` < 2^32. */
export function headBytes(argument: number): number {
  return argument < 24 ? 1 : argument < 0x100 ? 2 : argument < 0x1_0000 ? 3 : 5;
}

/** Bytes of a text string item. */
export function textBytes(text: string): number {
  const length = utf8Length(text);
  return headBytes(length) + length;
}

/**
 * UTF-8 length of `text`. Answers are mostly ASCII (sequence numbers, shard ids), which a
 * loop measures several times faster than a call into Buffer.byteLength's native code.
 */
function utf8Length(text: string): number {
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

export class CborBufferWriter {
  private readonly buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  head(major: number, argument: number): void {
    const buffer = this.buffer;
    const type = major << 5;
    if (argument < 24) {
      buffer[this.at++] = type | argument;
    } else if (argument < 0x100) {
      buffer[this.at++] = type | 24;
      buffer[this.at++] = argument;
    } else if (argument < 0x1_0000) {
      buffer[this.at++] = type | 25;
      this.at = buffer.writeUInt16BE(argument, this.at);
    } else {
      buffer[this.at++] = type | 26;
      this.at = buffer.writeUInt32BE(argument, this.at);
    }
  }

  text(text: string): void {
    const length = utf8Length(text);
    this.head(CBOR_TEXT, length);
    if (length !== text.length) {
      this.at += this.buffer.write(text, this.at, length, 'utf8');
      return;
    }
    // ASCII: one byte per character, copied here rather than through a native call per string.
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < length; index++) buffer[at++] = text.charCodeAt(index);
    this.at = at;
  }

  /** Bytes already in CBOR form (a member name encoded once, say). */
  encoded(item: Uint8Array): void {
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < item.length; index++) buffer[at++] = item[index]!;
    this.at = at;
  }

  /**
   * Writes the head of an ASCII text string of `length` bytes and returns where its bytes go;
   * the caller writes exactly that many into `bytes` (digits straight from numbers, say).
   */
  reserveText(length: number): number {
    this.head(CBOR_TEXT, length);
    const start = this.at;
    this.at += length;
    return start;
  }

  get bytes(): Buffer {
    return this.buffer;
  }

  /** The written bytes; throws if they do not fill the size given (a sizing bug). */
  finish(): Buffer {
    if (this.at !== this.buffer.length) throw new Error(`CBOR writer sized ${this.buffer.length} bytes, wrote ${this.at}`);
    return this.buffer;
  }
}

/** A text string item's bytes, for `CborBufferWriter.encoded`. */
export function encodeText(text: string): Uint8Array {
  const writer = new CborBufferWriter(textBytes(text));
  writer.text(text);
  return writer.finish();
}
