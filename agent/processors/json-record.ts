/**
 * How the Kinesis Agent's converters read a line and write a JSON record: the line is decoded as
 * UTF-8 (invalid bytes become U+FFFD, as Java's decoder does), one trailing '\n' is set aside,
 * and the JSON record always ends with '\n'. Keys keep the order they are given in — also
 * numeric-looking ones, which a plain JS object would move to the front.
 *
 * `jsonFormat` (Kinesis Agent ProcessingUtilsFactory): COMPACT (default) or PRETTYPRINT, the
 * layout of Jackson's default pretty printer.
 */
import { ConfigError, checkStringList } from '../../shared/config-values.js';
import type { KeyNamer } from './processor.js';

export type JsonFormat = 'COMPACT' | 'PRETTYPRINT';
export type JsonEntries = ReadonlyArray<readonly [string, unknown]>;

const LINE_FEED = 0x0a;

export function parseJsonFormat(option: Record<string, unknown>, at: KeyNamer): JsonFormat {
  const format = option.jsonFormat ?? 'COMPACT';
  if (format !== 'COMPACT' && format !== 'PRETTYPRINT') throw new ConfigError(at('jsonFormat'), `must be COMPACT or PRETTYPRINT, got ${JSON.stringify(format)}`);
  return format;
}

/** A non-empty list of distinct names: JSON keys must not repeat. */
export function checkFieldNames(value: unknown, source: string): string[] {
  const names = checkStringList(value, source);
  if (names.length === 0) throw new ConfigError(source, 'must name at least one field');
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new ConfigError(source, `names ${JSON.stringify(repeated)} twice`);
  return names;
}

/** The record's text without its trailing '\n'. */
export function lineText(data: Buffer): string {
  const end = data.length > 0 && data[data.length - 1] === LINE_FEED ? data.length - 1 : data.length;
  return data.toString('utf8', 0, end);
}

export function jsonRecord(entries: JsonEntries, format: JsonFormat): Buffer {
  const text = format === 'COMPACT' ? compactObject(entries) : prettyObject(entries, 0);
  return Buffer.from(text + '\n', 'utf8');
}

function compactObject(entries: JsonEntries): string {
  return '{' + entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value ?? null)}`).join(',') + '}';
}

// Jackson's DefaultPrettyPrinter: objects one entry per line, indented two spaces per object
// level, `"key" : value`; arrays on one line as `[ a, b ]`; empty ones as `{ }` and `[ ]`.
function prettyObject(entries: JsonEntries, depth: number): string {
  if (entries.length === 0) return '{ }';
  const indent = '  '.repeat(depth + 1);
  const lines = entries.map(([key, value]) => `${indent}${JSON.stringify(key)} : ${prettyValue(value, depth + 1)}`);
  return `{\n${lines.join(',\n')}\n${'  '.repeat(depth)}}`;
}

function prettyValue(value: unknown, depth: number): string {
  if (Array.isArray(value)) return value.length === 0 ? '[ ]' : `[ ${value.map((item: unknown) => prettyValue(item, depth)).join(', ')} ]`;
  if (typeof value === 'object' && value !== null) return prettyObject(Object.entries(value), depth);
  return JSON.stringify(value ?? null);
}
