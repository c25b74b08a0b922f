/**
 * RecordDeAggregation: one incoming record becomes several — KPL aggregated records
 * (SubRecordType KPL, via shared/kpl-aggregation.ts), concatenated JSON objects (JSON), or
 * records separated by a Base64-encoded `Delimiter` (DELIMITED).
 */
import { AwsError } from '../../../shared/errors.js';
import { deaggregate } from '../../../shared/kpl-aggregation.js';
import { processingFailure, type ProcessingRecord, type ProcessorSpec } from './index.js';

type SubRecordType = 'KPL' | 'JSON' | 'DELIMITED';

export const recordDeAggregationProcessor: ProcessorSpec = {
  type: 'RecordDeAggregation',
  order: 20,
  check(parameters) {
    const type = parameters.get('SubRecordType') ?? 'JSON';
    if (!['KPL', 'JSON', 'DELIMITED'].includes(type)) throw new AwsError('InvalidArgumentException', `SubRecordType ${type} is not one of KPL, JSON, DELIMITED.`);
    if (type === 'DELIMITED') {
      const delimiter = parameters.get('Delimiter');
      if (!delimiter || Buffer.from(delimiter, 'base64').length === 0) {
        throw new AwsError('InvalidArgumentException', 'RecordDeAggregation with SubRecordType DELIMITED needs a Base64-encoded Delimiter.');
      }
    }
  },
  create(parameters) {
    const type = (parameters.get('SubRecordType') ?? 'JSON') as SubRecordType;
    const delimiter = Buffer.from(parameters.get('Delimiter') ?? '', 'base64');
    return {
      async process(records, context) {
        const out: ProcessingRecord[] = [];
        const failed = [];
        for (const record of records) {
          const parts = type === 'KPL' ? kplParts(record.data) : type === 'JSON' ? jsonParts(record.data) : delimitedParts(record.data, delimiter);
          if (parts === undefined) {
            failed.push(processingFailure(record, 'RecordDeAggregation.InvalidRecord', `The record is not valid ${type} data.`, context));
            continue;
          }
          parts.forEach((data, index) => out.push({ ...record, id: parts.length > 1 ? `${record.id}.${index}` : record.id, data }));
        }
        return { records: out, failed };
      },
    };
  },
};

function kplParts(data: Buffer): Buffer[] {
  // A record without the KPL magic is a plain record, as the KCL treats it.
  return deaggregate(data)?.map((user) => user.data) ?? [data];
}

/** Concatenated JSON objects (`{..}{..}` or newline-separated), each re-serialised as given. */
function jsonParts(data: Buffer): Buffer[] | undefined {
  const text = data.toString('utf8');
  const parts: Buffer[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (char === '}') {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) {
        const json = text.slice(start, i + 1);
        try {
          JSON.parse(json);
        } catch {
          return undefined;
        }
        parts.push(Buffer.from(json));
      }
    } else if (depth === 0 && !/\s/.test(char)) return undefined;
  }
  return depth === 0 && parts.length > 0 ? parts : undefined;
}

function delimitedParts(data: Buffer, delimiter: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = data.indexOf(delimiter, start); at >= 0; at = data.indexOf(delimiter, start)) {
    if (at > start) parts.push(data.subarray(start, at));
    start = at + delimiter.length;
  }
  if (start < data.length) parts.push(data.subarray(start));
  return parts;
}
