/**
 * JSON straight from and into Buffers, for large request and response bodies.
 *
 * Why: turning a 700 KB body into one string costs ~3 ms here (V8 puts strings over 128 KB in
 * freshly mapped large-object pages: page faults on every byte), more than parsing it. A
 * PutRecords body is mostly small strings (base64 data, partition keys), so this parser finds
 * each string's end with `Buffer.indexOf` and decodes only that slice; structure is walked in JS.
 * The result is what `JSON.parse` gives for the same text; anything `JSON.parse` refuses throws.
 *
 * `encodeJson` is the other direction: it writes the JSON text in 64 KiB pieces so no huge
 * string is ever built (a 10 MiB GetRecords response).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const numberPattern = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

export class JsonSyntaxError extends Error {}

export function parseJsonBuffer(buffer: Buffer): unknown {
  const parser = new BufferJsonParser(buffer);
  const value = parser.value();
  parser.skipWhitespace();
  if (parser.position !== buffer.length) throw new JsonSyntaxError(`unexpected data at ${parser.position}`);
  return value;
}

class BufferJsonParser {
  position = 0;

  constructor(private readonly buffer: Buffer) {}

  skipWhitespace(): void {
    const buffer = this.buffer;
    let p = this.position;
    for (;;) {
      const c = buffer[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.position = p;
  }

  value(): unknown {
    this.skipWhitespace();
    const c = this.buffer[this.position];
    switch (c) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case QUOTE:
        return this.string();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.position++;
    this.skipWhitespace();
    if (this.buffer[this.position] === 0x7d) {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.buffer[this.position] !== QUOTE) throw new JsonSyntaxError(`expected a member name at ${this.position}`);
      const key = this.string();
      this.skipWhitespace();
      if (this.buffer[this.position] !== 0x3a) throw new JsonSyntaxError(`expected ':' at ${this.position}`);
      this.position++;
      const member = this.value();
      // As JSON.parse: "__proto__" is an own member, never the prototype.
      if (key === '__proto__') Object.defineProperty(result, key, { value: member, enumerable: true, writable: true, configurable: true });
      else result[key] = member;
      this.skipWhitespace();
      const next = this.buffer[this.position++];
      if (next === 0x7d) return result;
      if (next !== 0x2c) throw new JsonSyntaxError(`expected ',' or '}' at ${this.position - 1}`);
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.position++;
    this.skipWhitespace();
    if (this.buffer[this.position] === 0x5d) {
      this.position++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skipWhitespace();
      const next = this.buffer[this.position++];
      if (next === 0x5d) return result;
      if (next !== 0x2c) throw new JsonSyntaxError(`expected ',' or ']' at ${this.position - 1}`);
    }
  }

  private string(): string {
    const buffer = this.buffer;
    const start = this.position + 1;
    // One pass finds the end of a plain string and rules out raw control characters (which
    // JSON forbids); a string with escapes is handed to JSON.parse, slice by slice.
    let p = start;
    let c = buffer[p];
    while (c !== undefined && c !== QUOTE && c !== BACKSLASH && c >= 0x20) c = buffer[++p];
    if (c === QUOTE) {
      this.position = p + 1;
      return buffer.toString('utf8', start, p);
    }
    if (c !== BACKSLASH) throw new JsonSyntaxError(c === undefined ? 'unterminated string' : `control character in string at ${p}`);
    for (;;) {
      c = buffer[p];
      if (c === undefined) throw new JsonSyntaxError('unterminated string');
      if (c === BACKSLASH) p += 2;
      else if (c === QUOTE) break;
      else p++;
    }
    this.position = p + 1;
    return JSON.parse(buffer.toString('utf8', start - 1, p + 1)) as string;
  }

  private literal(text: string, value: boolean | null): boolean | null {
    if (this.buffer.toString('latin1', this.position, this.position + text.length) !== text) throw new JsonSyntaxError(`unexpected token at ${this.position}`);
    this.position += text.length;
    return value;
  }

  private number(): number {
    const buffer = this.buffer;
    const start = this.position;
    let p = start;
    for (;;) {
      const c = buffer[p];
      // digits, '-', '+', '.', 'e', 'E'
      if (c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)) p++;
      else break;
    }
    const text = buffer.toString('latin1', start, p);
    if (!numberPattern.test(text)) throw new JsonSyntaxError(`unexpected token at ${start}`);
    this.position = p;
    return Number(text);
  }
}

/**
 * A value already in JSON form, which `encodeJson` writes as it is: a `toScalar` result for
 * text known to need no escaping (base64 of a blob), so a 1 KiB record's data is not scanned
 * by JSON.stringify once more. `toJSON` keeps it right wherever JSON.stringify meets it.
 */
export class JsonText {
  constructor(
    readonly text: string,
    private readonly json: unknown,
  ) {}
  toJSON(): unknown {
    return this.json;
  }
}

const PIECE_CHARS = 64 * 1024;
/** Arrays longer than this are written element by element; shorter ones in one JSON.stringify. */
const WHOLE_ARRAY_ELEMENTS = 64;

/**
 * JSON text of `value` as one Buffer, built from 64 KiB pieces. `toScalar` maps values (Buffers
 * to base64, Dates to epoch seconds) before JSON.stringify sees them; undefined members
 * are left out, as JSON.stringify does. Large arrays (GetRecords' Records) are written one
 * element per JSON.stringify call, so no string ever grows past a piece.
 */
export function encodeJson(value: unknown, toScalar: (value: unknown) => unknown): Buffer {
  // Map Buffers and Dates first, then stringify without a replacer: V8's fast path.
  const mapDeep = (item: unknown): unknown => {
    const mapped = toScalar(item);
    if (mapped !== item) return mapped;
    if (Array.isArray(item)) return item.map(mapDeep);
    if (isPlainStructure(item)) {
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(item)) copy[key] = mapDeep(item[key]);
      return copy;
    }
    return item;
  };
  const stringify = (item: unknown): string | undefined => JSON.stringify(mapDeep(item)) as string | undefined;
  /** A structure whose members are all scalars, written by hand (GetRecords' records); else undefined. */
  const flatStructure = (item: Record<string, unknown>): string | undefined => {
    let text = '{';
    for (const key of Object.keys(item)) {
      const member = toScalar(item[key]);
      let json: string;
      if (member instanceof JsonText) json = member.text;
      else if (typeof member === 'string') json = JSON.stringify(member);
      else if (typeof member === 'number') json = Number.isFinite(member) ? String(member) : 'null';
      else if (typeof member === 'boolean') json = member ? 'true' : 'false';
      else if (member === null) json = 'null';
      else if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
      else return undefined;
      text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${json}`;
    }
    return `${text}}`;
  };
  const element = (item: unknown): string => (isPlainStructure(item) ? flatStructure(item) : undefined) ?? stringify(item) ?? 'null';
  const pieces: Buffer[] = [];
  let pending: string[] = [];
  let pendingChars = 0;
  const write = (text: string) => {
    pending.push(text);
    pendingChars += text.length;
    if (pendingChars >= PIECE_CHARS) {
      pieces.push(Buffer.from(pending.join(''), 'utf8'));
      pending = [];
      pendingChars = 0;
    }
  };
  const visit = (item: unknown): void => {
    if (Array.isArray(item) && item.length > WHOLE_ARRAY_ELEMENTS) {
      write('[');
      for (let start = 0; start < item.length; start += WHOLE_ARRAY_ELEMENTS) {
        const slice = item.slice(start, start + WHOLE_ARRAY_ELEMENTS);
        if (scalarStructures(slice)) {
          // One JSON.stringify per slice (PutRecords' answer: 500 {SequenceNumber, ShardId}):
          // half the time of writing each structure by hand.
          write((start > 0 ? ',' : '') + JSON.stringify(slice).slice(1, -1));
          continue;
        }
        for (let i = 0; i < slice.length; i++) write((start + i > 0 ? ',' : '') + element(slice[i]));
      }
      write(']');
    } else if (isPlainStructure(item)) {
      write('{');
      let first = true;
      for (const key of Object.keys(item)) {
        const member = item[key];
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        write(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
        first = false;
        visit(member);
      }
      write('}');
    } else {
      write(stringify(item) ?? 'null');
    }
  };
  visit(value);
  pieces.push(Buffer.from(pending.join(''), 'utf8'));
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/**
 * Whether every item is a structure of members that need no mapping (strings, numbers,
 * booleans, null, undefined) with at most a piece's worth of string text between them, so
 * JSON.stringify may write them all at once without building a large string.
 */
function scalarStructures(items: unknown[]): boolean {
  let chars = 0;
  for (const item of items) {
    if (!isPlainStructure(item)) return false;
    for (const key in item) {
      const member = item[key];
      if (typeof member === 'string') chars += member.length;
      else if (typeof member !== 'number' && typeof member !== 'boolean' && member !== null && member !== undefined) return false;
    }
  }
  return chars <= PIECE_CHARS;
}

function isPlainStructure(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
