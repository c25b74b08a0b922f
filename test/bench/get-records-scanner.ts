/**
 * Reads a GetRecords JSON answer straight from its bytes — each record's SequenceNumber, where
 * its base64 Data sits, and NextShardIterator — without JSON.parse.
 *
 * Why: an answer to GetRecords with Limit 10000 is ~14 MB of JSON. Making it one JS string and
 * parsing that costs the client about as much CPU as the server spends producing it (on the
 * reference VM a string that large is allocated page fault by page fault, at 150–400 MB/s), so
 * a JSON.parse-ing reader would measure itself rather than the target.
 *
 * What the scan relies on: member names appear as `"Name"` followed by optional whitespace and
 * a colon (JSON), and the values it reads — decimal sequence numbers, base64 data, an opaque
 * iterator — hold no quote and no escape. A server that escaped `/` in base64 as `\/` (JSON
 * allows it; JSON.stringify does not do it) would show up as a checksum mismatch, not pass.
 */
const SEQUENCE_NUMBER_KEY = Buffer.from('"SequenceNumber"');
const DATA_KEY = Buffer.from('"Data"');
const NEXT_ITERATOR_KEY = Buffer.from('"NextShardIterator"');
const QUOTE = 0x22;
const COLON = 0x3a;
const PAD = 0x3d; // '='

export interface ScannedRecord {
  sequenceNumber: string;
  /** Byte range of the record's base64 Data inside the answer. */
  dataStart: number;
  dataEnd: number;
}

export interface ScannedGetRecords {
  records: ScannedRecord[];
  nextShardIterator?: string;
}

export function scanGetRecordsAnswer(body: Buffer): ScannedGetRecords {
  const sequenceNumbers = memberStringValues(body, SEQUENCE_NUMBER_KEY);
  const data = memberStringValues(body, DATA_KEY);
  if (sequenceNumbers.length !== data.length) {
    throw new Error(`GetRecords answer has ${sequenceNumbers.length} SequenceNumber members but ${data.length} Data members`);
  }
  const records = data.map(([dataStart, dataEnd], index) => {
    const [start, end] = sequenceNumbers[index]!;
    return { sequenceNumber: body.toString('latin1', start, end), dataStart, dataEnd };
  });
  const [iterator] = memberStringValues(body, NEXT_ITERATOR_KEY);
  return { records, ...(iterator !== undefined ? { nextShardIterator: body.toString('latin1', iterator[0], iterator[1]) } : {}) };
}

/** Bytes that a base64 text of this range decodes to. */
export function base64DecodedLength(body: Buffer, start: number, end: number): number {
  let padding = 0;
  while (padding < 2 && end - padding > start && body[end - padding - 1] === PAD) padding++;
  return ((end - start) / 4) * 3 - padding;
}

/** [start, end) of the string value of every member named by `key`; the same text as a value is skipped. */
function memberStringValues(body: Buffer, key: Buffer): Array<[number, number]> {
  const values: Array<[number, number]> = [];
  for (let at = body.indexOf(key); at >= 0; at = body.indexOf(key, at + key.length)) {
    let index = skipWhitespace(body, at + key.length);
    if (body[index] !== COLON) continue;
    index = skipWhitespace(body, index + 1);
    if (body[index] !== QUOTE) continue;
    const end = body.indexOf(QUOTE, index + 1);
    if (end < 0) throw new Error('GetRecords answer ends inside a string');
    values.push([index + 1, end]);
  }
  return values;
}

function skipWhitespace(body: Buffer, index: number): number {
  // JSON whitespace: space, tab, line feed, carriage return (RFC 8259 §2).
  while (body[index] === 0x20 || body[index] === 0x09 || body[index] === 0x0a || body[index] === 0x0d) index++;
  return index;
}
