/**
 * Bytes written by hand into one Buffer of a size computed beforehand: the hot answers
 * (PutRecords' up to 500 entries, in JSON or CBOR) without a generic encoder's per-item
 * objects and strings. ASCII — what these answers mostly are: digits, ids, member names — is
 * measured and copied in JavaScript, several times faster for short strings than a call into
 * Buffer's native code per string.
 */
export class BufferWriter {
  private readonly buffer: Buffer;
  protected at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** The Buffer written into, for callers that fill a `reserve`d range themselves. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /** Skips `length` bytes the caller fills in `bytes` (digits straight from numbers, say); returns where they start. */
  reserve(length: number): number {
    const start = this.at;
    this.at += length;
    return start;
  }

  byte(value: number): void {
    this.buffer[this.at++] = value;
  }

  /** Bytes prepared once (a member name with its punctuation, say). */
  copy(bytes: Uint8Array): void {
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < bytes.length; index++) buffer[at++] = bytes[index]!;
    this.at = at;
  }

  /** `text` as UTF-8; `length` is its UTF-8 length (utf8Length). */
  utf8(text: string, length: number): void {
    if (length !== text.length) {
      this.at += this.buffer.write(text, this.at, length, 'utf8');
      return;
    }
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < length; index++) buffer[at++] = text.charCodeAt(index);
    this.at = at;
  }

  /** The written bytes; throws if they do not fill the size given (a sizing bug). */
  finish(): Buffer {
    if (this.at !== this.buffer.length) throw new Error(`writer sized ${this.buffer.length} bytes, wrote ${this.at}`);
    return this.buffer;
  }
}

/** UTF-8 length of `text`: a loop for ASCII, Buffer.byteLength otherwise. */
export function utf8Length(text: string): number {
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

/** ASCII text as bytes, for `BufferWriter.copy`. */
export function asciiBytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}
