/**
 * S3 object keys exactly as Firehose names them: `<evaluated prefix><suffix>`, the suffix
 * `<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><extension>` (Firehose developer
 * guide, "Configure Amazon S3 object name format"), the prefix either the default time prefix
 * `YYYY/MM/dd/HH/` or a custom one with `!{namespace:value}` expressions ("Understand custom
 * prefixes for Amazon S3 objects"):
 *
 * - `!{timestamp:<Java DateTimeFormatter pattern>}` — the approximate arrival time of the oldest
 *   record in the object, in UTC or `CustomTimeZone`; every use in one prefix is the same instant;
 * - `!{firehose:random-string}` — 11 random alphanumeric characters;
 * - `!{firehose:error-output-type}` — processing-failed, http-endpoint-failed, … (errors only);
 * - `!{partitionKeyFromQuery:<key>}` / `!{partitionKeyFromLambda:<key>}` — dynamic partitioning.
 *
 * Times are the arrival time of the oldest record, as AWS documents for `!{timestamp:…}`; the
 * suffix uses the same instant.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { AwsError } from '../../shared/errors.js';

export type ErrorOutputType =
  | 'processing-failed'
  | 'http-endpoint-failed'
  | 'AmazonOpenSearchService-failed'
  | 'elasticsearch-failed'
  | 'splunk-failed'
  | 'format-conversion-failed'
  | 'redshift-failed';

type PrefixPart =
  | { kind: 'literal'; text: string }
  | { kind: 'timestamp'; format: DateTimePattern }
  | { kind: 'random-string' }
  | { kind: 'error-output-type' }
  | { kind: 'partitionKeyFromQuery' | 'partitionKeyFromLambda'; key: string };

export interface ParsedPrefix {
  readonly parts: readonly PrefixPart[];
  readonly hasExpressions: boolean;
}

export interface PrefixValues {
  timestampMs: number;
  timeZone: string;
  errorOutputType?: ErrorOutputType;
  partitionKeysFromQuery?: Record<string, string>;
  partitionKeysFromLambda?: Record<string, string>;
}

/** S3: an object key is at most 1,024 bytes of UTF-8. */
const S3_MAX_KEY_BYTES = 1024;
const RANDOM_STRING_LENGTH = 11;
const RANDOM_STRING_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function parsePrefix(template: string, field: 'Prefix' | 'ErrorOutputPrefix'): ParsedPrefix {
  const parts: PrefixPart[] = [];
  let rest = template;
  let hasExpressions = false;
  for (;;) {
    const start = rest.indexOf('!{');
    if (start < 0) break;
    const end = rest.indexOf('}', start);
    if (end < 0) throw new AwsError('InvalidArgumentException', `${field} has an unterminated expression: ${template}`);
    if (start > 0) parts.push({ kind: 'literal', text: rest.slice(0, start) });
    parts.push(parseExpression(rest.slice(start + 2, end), field));
    hasExpressions = true;
    rest = rest.slice(end + 1);
  }
  if (rest) parts.push({ kind: 'literal', text: rest });
  return { parts, hasExpressions };
}

function parseExpression(body: string, field: string): PrefixPart {
  const colon = body.indexOf(':');
  const namespace = colon < 0 ? body : body.slice(0, colon);
  const value = colon < 0 ? '' : body.slice(colon + 1);
  switch (namespace) {
    case 'timestamp':
      return { kind: 'timestamp', format: compileDateTimePattern(value, field) };
    case 'firehose':
      if (value === 'random-string') return { kind: 'random-string' };
      if (value === 'error-output-type') return { kind: 'error-output-type' };
      throw new AwsError('InvalidArgumentException', `${field}: unsupported firehose namespace value: ${value}`);
    case 'partitionKeyFromQuery':
    case 'partitionKeyFromLambda':
      if (!value) throw new AwsError('InvalidArgumentException', `${field}: ${namespace} needs a key name`);
      return { kind: namespace, key: value };
    default:
      throw new AwsError('InvalidArgumentException', `${field}: unsupported expression namespace: ${namespace}`);
  }
}

/**
 * The rules AWS applies to a destination's prefixes at CreateDeliveryStream/UpdateDestination
 * (developer guide, custom prefixes): an expression in Prefix needs an ErrorOutputPrefix; an
 * ErrorOutputPrefix with expressions must contain `!{firehose:error-output-type}`; Prefix must
 * not; partition keys only with dynamic partitioning, and never in the ErrorOutputPrefix.
 */
export function checkPrefixes(prefix: string | undefined, errorOutputPrefix: string | undefined, dynamicPartitioning: boolean): void {
  const data = parsePrefix(prefix ?? '', 'Prefix');
  const errors = errorOutputPrefix === undefined ? undefined : parsePrefix(errorOutputPrefix, 'ErrorOutputPrefix');
  if (data.hasExpressions && errors === undefined) {
    throw new AwsError('InvalidArgumentException', 'ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.');
  }
  if (data.parts.some((part) => part.kind === 'error-output-type')) {
    throw new AwsError('InvalidArgumentException', 'The expression !{firehose:error-output-type} is not allowed in Prefix.');
  }
  if (errors?.hasExpressions && !errors.parts.some((part) => part.kind === 'error-output-type')) {
    throw new AwsError('InvalidArgumentException', 'ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains expressions.');
  }
  if (errors?.parts.some((part) => part.kind === 'partitionKeyFromQuery' || part.kind === 'partitionKeyFromLambda')) {
    throw new AwsError('InvalidArgumentException', 'Partition key expressions are not allowed in ErrorOutputPrefix.');
  }
  const usesPartitionKeys = data.parts.some((part) => part.kind === 'partitionKeyFromQuery' || part.kind === 'partitionKeyFromLambda');
  if (usesPartitionKeys && !dynamicPartitioning) {
    throw new AwsError('InvalidArgumentException', 'Partition key expressions in Prefix require DynamicPartitioningConfiguration to be enabled.');
  }
  if (dynamicPartitioning && !usesPartitionKeys) {
    throw new AwsError('InvalidArgumentException', 'Prefix must contain partition key expressions when dynamic partitioning is enabled.');
  }
}

/** The partition keys a prefix uses, by namespace. */
export function partitionKeysOf(prefix: ParsedPrefix): { fromQuery: string[]; fromLambda: string[] } {
  const fromQuery: string[] = [];
  const fromLambda: string[] = [];
  for (const part of prefix.parts) {
    if (part.kind === 'partitionKeyFromQuery') fromQuery.push(part.key);
    if (part.kind === 'partitionKeyFromLambda') fromLambda.push(part.key);
  }
  return { fromQuery, fromLambda };
}


/**
 * A data object's prefix: a prefix without expressions (or none) is followed by the default
 * `YYYY/MM/dd/HH/` time prefix; one with expressions replaces it.
 */
export function evaluateDataPrefix(prefix: ParsedPrefix, values: PrefixValues): string {
  if (!prefix.hasExpressions) return literalText(prefix) + formatDateTime(DEFAULT_TIME_PREFIX, values.timestampMs, values.timeZone);
  return evaluate(prefix, values);
}

/**
 * An error object's prefix. Without an ErrorOutputPrefix Firehose writes errors under
 * `<error-output-type>/YYYY/MM/dd/HH/`; a literal ErrorOutputPrefix is followed by the same.
 */
export function evaluateErrorPrefix(prefix: ParsedPrefix | undefined, values: PrefixValues & { errorOutputType: ErrorOutputType }): string {
  if (prefix?.hasExpressions) return evaluate(prefix, values);
  const literal = prefix ? literalText(prefix) : '';
  return `${literal}${values.errorOutputType}/${formatDateTime(DEFAULT_TIME_PREFIX, values.timestampMs, values.timeZone)}`;
}

export function objectSuffix(streamName: string, versionId: number, timestampMs: number, timeZone: string, extension: string): string {
  return `${streamName}-${versionId}-${formatDateTime(SUFFIX_TIME, timestampMs, timeZone)}-${randomUUID()}${extension}`;
}

export function checkObjectKey(key: string): void {
  if (Buffer.byteLength(key) > S3_MAX_KEY_BYTES) throw new Error(`object key longer than ${S3_MAX_KEY_BYTES} bytes: ${key.slice(0, 80)}…`);
}

function literalText(prefix: ParsedPrefix): string {
  return prefix.parts.map((part) => (part.kind === 'literal' ? part.text : '')).join('');
}

function evaluate(prefix: ParsedPrefix, values: PrefixValues): string {
  let result = '';
  for (const part of prefix.parts) {
    switch (part.kind) {
      case 'literal':
        result += part.text;
        break;
      case 'timestamp':
        result += formatDateTime(part.format, values.timestampMs, values.timeZone);
        break;
      case 'random-string':
        for (let i = 0; i < RANDOM_STRING_LENGTH; i++) result += RANDOM_STRING_ALPHABET[randomInt(RANDOM_STRING_ALPHABET.length)];
        break;
      case 'error-output-type':
        result += values.errorOutputType ?? '';
        break;
      case 'partitionKeyFromQuery':
      case 'partitionKeyFromLambda': {
        const keys = part.kind === 'partitionKeyFromQuery' ? values.partitionKeysFromQuery : values.partitionKeysFromLambda;
        const value = keys?.[part.key];
        if (value === undefined) throw new MissingPartitionKeyError(part.kind, part.key);
        result += value;
        break;
      }
    }
  }
  return result;
}

export class MissingPartitionKeyError extends Error {
  constructor(
    readonly namespace: string,
    readonly key: string,
  ) {
    super(`partition key ${namespace}:${key} is missing`);
  }
}

// --- Java DateTimeFormatter patterns (java.time.format.DateTimeFormatter, "Patterns for Formatting") ---

type PatternToken = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; width: number };
export interface DateTimePattern {
  readonly tokens: readonly PatternToken[];
}

/** Pattern letters supported: the fields an object prefix can use. Others are refused at configuration time. */
const SUPPORTED_LETTERS = new Set(['y', 'u', 'M', 'L', 'd', 'D', 'H', 'h', 'k', 'K', 'm', 's', 'S', 'a', 'E', 'e', 'w', 'Q']);
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function compileDateTimePattern(pattern: string, field: string): DateTimePattern {
  const tokens: PatternToken[] = [];
  for (let i = 0; i < pattern.length; ) {
    const char = pattern[i]!;
    if (char === "'") {
      // '' is a literal quote; 'text' is literal text.
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw new AwsError('InvalidArgumentException', `${field}: unterminated quote in timestamp pattern ${pattern}`);
      tokens.push({ kind: 'literal', text: close === i + 1 ? "'" : pattern.slice(i + 1, close) });
      i = close + 1;
    } else if (/[a-zA-Z]/.test(char)) {
      if (!SUPPORTED_LETTERS.has(char)) throw new AwsError('InvalidArgumentException', `${field}: unsupported timestamp pattern letter '${char}' in ${pattern}`);
      let width = 1;
      while (pattern[i + width] === char) width++;
      tokens.push({ kind: 'field', letter: char, width });
      i += width;
    } else if (char === '[' || char === ']' || char === '{' || char === '}' || char === '#') {
      throw new AwsError('InvalidArgumentException', `${field}: reserved character '${char}' in timestamp pattern ${pattern}`);
    } else {
      tokens.push({ kind: 'literal', text: char });
      i++;
    }
  }
  return { tokens };
}

interface ZonedFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: number;
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

function zonedFields(ms: number, timeZone: string): ZonedFields {
  const date = new Date(ms);
  if (timeZone === 'UTC') {
    return {
      year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: date.getUTCHours(),
      minute: date.getUTCMinutes(), second: date.getUTCSeconds(), millisecond: date.getUTCMilliseconds(), weekday: date.getUTCDay(),
    };
  }
  let formatter = zoneFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
    });
    zoneFormatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(date).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute),
    second: Number(parts.second), millisecond: date.getUTCMilliseconds(), weekday: WEEKDAYS.findIndex((name) => name.startsWith(parts.weekday ?? '')),
  };
}

export function isSupportedTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function formatDateTime(pattern: DateTimePattern, ms: number, timeZone: string): string {
  const f = zonedFields(ms, timeZone);
  let out = '';
  for (const token of pattern.tokens) {
    if (token.kind === 'literal') {
      out += token.text;
      continue;
    }
    const { letter, width } = token;
    const pad = (value: number) => String(value).padStart(width, '0');
    switch (letter) {
      case 'y':
      case 'u':
        // DateTimeFormatter: "yy" is the two-digit reduced year; other widths pad the full year.
        out += width === 2 ? String(f.year % 100).padStart(2, '0') : pad(f.year);
        break;
      case 'M':
      case 'L':
        out += width >= 4 ? MONTHS[f.month - 1]! : width === 3 ? MONTHS[f.month - 1]!.slice(0, 3) : pad(f.month);
        break;
      case 'd':
        out += pad(f.day);
        break;
      case 'D':
        out += pad(dayOfYear(f));
        break;
      case 'H':
        out += pad(f.hour);
        break;
      case 'k':
        out += pad(f.hour === 0 ? 24 : f.hour);
        break;
      case 'h':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12);
        break;
      case 'K':
        out += pad(f.hour % 12);
        break;
      case 'm':
        out += pad(f.minute);
        break;
      case 's':
        out += pad(f.second);
        break;
      case 'S':
        out += String(f.millisecond).padStart(3, '0').padEnd(width, '0').slice(0, width);
        break;
      case 'a':
        out += f.hour < 12 ? 'AM' : 'PM';
        break;
      case 'E':
        out += width >= 4 ? WEEKDAYS[f.weekday]! : WEEKDAYS[f.weekday]!.slice(0, 3);
        break;
      case 'e':
        // Localized day of week, ISO (Monday = 1) as in the ROOT locale's WeekFields.ISO.
        out += pad(f.weekday === 0 ? 7 : f.weekday);
        break;
      case 'w':
        out += pad(isoWeek(f));
        break;
      case 'Q':
        out += pad(Math.floor((f.month - 1) / 3) + 1);
        break;
    }
  }
  return out;
}

function dayOfYear(f: ZonedFields): number {
  return Math.round((Date.UTC(f.year, f.month - 1, f.day) - Date.UTC(f.year, 0, 1)) / 86_400_000) + 1;
}

function isoWeek(f: ZonedFields): number {
  const date = new Date(Date.UTC(f.year, f.month - 1, f.day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
}

// Compiled after the pattern tables above exist.
const DEFAULT_TIME_PREFIX = compileDateTimePattern('yyyy/MM/dd/HH/', 'Prefix');
const SUFFIX_TIME = compileDateTimePattern('yyyy-MM-dd-HH-mm-ss', 'Prefix');
