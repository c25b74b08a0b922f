/** Firehose object keys: Java DateTimeFormatter patterns, expressions, defaults and the configuration rules. */
import { describe, expect, it } from 'vitest';
import {
  checkPrefixes,
  compileDateTimePattern,
  evaluateDataPrefix,
  evaluateErrorPrefix,
  formatDateTime,
  MissingPartitionKeyError,
  objectSuffix,
  parsePrefix,
} from '../../collector/delivery/object-key.js';
import { AwsError } from '../../shared/errors.js';

const at = Date.UTC(2018, 7, 27, 10, 30, 5, 42); // 2018-08-27T10:30:05.042Z, a Monday

function format(pattern: string, timeZone = 'UTC'): string {
  return formatDateTime(compileDateTimePattern(pattern, 'Prefix'), at, timeZone);
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as AwsError).code;
  }
  return undefined;
}

describe('Java DateTimeFormatter patterns', () => {
  it('formats the fields prefixes use', () => {
    expect(format('yyyy/MM/dd/HH')).toBe('2018/08/27/10');
    expect(format("yyyy-MM-dd'T'HH:mm:ss.SSS")).toBe('2018-08-27T10:30:05.042');
    expect(format('yy M d H m s')).toBe('18 8 27 10 30 5');
    expect(format('MMM MMMM EEE EEEE a hh DDD')).toBe('Aug August Mon Monday AM 10 239');
    expect(format("'year='yyyy''")).toBe("year=2018'");
    expect(format('yyyy/MM/dd/HH', 'Asia/Tokyo')).toBe('2018/08/27/19');
  });

  it('refuses letters and reserved characters it cannot format', () => {
    expect(codeOf(() => compileDateTimePattern('yyyy-VV', 'Prefix'))).toBe('InvalidArgumentException');
    expect(codeOf(() => compileDateTimePattern('yyyy[MM]', 'Prefix'))).toBe('InvalidArgumentException');
    expect(codeOf(() => compileDateTimePattern("'open", 'Prefix'))).toBe('InvalidArgumentException');
  });
});

describe('prefixes', () => {
  const values = { timestampMs: at, timeZone: 'UTC' };

  it('adds the default time prefix unless the prefix has expressions', () => {
    expect(evaluateDataPrefix(parsePrefix('', 'Prefix'), values)).toBe('2018/08/27/10/');
    expect(evaluateDataPrefix(parsePrefix('logs/', 'Prefix'), values)).toBe('logs/2018/08/27/10/');
    expect(evaluateDataPrefix(parsePrefix('dt=!{timestamp:yyyy-MM-dd}/', 'Prefix'), values)).toBe('dt=2018-08-27/');
    expect(evaluateDataPrefix(parsePrefix('r=!{firehose:random-string}/', 'Prefix'), values)).toMatch(/^r=[a-zA-Z0-9]{11}\/$/);
  });

  it('puts errors under their output type', () => {
    const type = { ...values, errorOutputType: 'processing-failed' as const };
    expect(evaluateErrorPrefix(undefined, type)).toBe('processing-failed/2018/08/27/10/');
    expect(evaluateErrorPrefix(parsePrefix('err/!{firehose:error-output-type}/!{timestamp:yyyy}/', 'ErrorOutputPrefix'), type)).toBe('err/processing-failed/2018/');
  });

  it('evaluates partition keys and reports a missing one', () => {
    const prefix = parsePrefix('customer=!{partitionKeyFromQuery:customer}/device=!{partitionKeyFromLambda:device}/', 'Prefix');
    expect(evaluateDataPrefix(prefix, { ...values, partitionKeysFromQuery: { customer: 'c1' }, partitionKeysFromLambda: { device: 'd9' } })).toBe('customer=c1/device=d9/');
    expect(() => evaluateDataPrefix(prefix, { ...values, partitionKeysFromQuery: { customer: 'c1' } })).toThrow(MissingPartitionKeyError);
  });

  it('applies AWS’s configuration rules', () => {
    expect(codeOf(() => checkPrefixes('a/!{timestamp:yyyy}/', undefined, false))).toBe('InvalidArgumentException');
    expect(codeOf(() => checkPrefixes('a/!{firehose:error-output-type}/', 'e/!{firehose:error-output-type}', false))).toBe('InvalidArgumentException');
    expect(codeOf(() => checkPrefixes('a/', 'e/!{timestamp:yyyy}/', false))).toBe('InvalidArgumentException');
    expect(codeOf(() => checkPrefixes('a/!{partitionKeyFromQuery:k}/', 'e/!{firehose:error-output-type}', false))).toBe('InvalidArgumentException');
    expect(codeOf(() => checkPrefixes('a/', 'e/', true))).toBe('InvalidArgumentException');
    expect(codeOf(() => checkPrefixes('a/!{unknown:x}/', 'e/!{firehose:error-output-type}', false))).toBe('InvalidArgumentException');
    expect(codeOf(() => checkPrefixes('a/!{partitionKeyFromQuery:k}/!{timestamp:yyyy}/', 'e/!{firehose:error-output-type}/', true))).toBeUndefined();
    expect(codeOf(() => checkPrefixes(undefined, undefined, false))).toBeUndefined();
  });

  it('names objects <stream>-<version>-<time>-<uuid><extension>', () => {
    expect(objectSuffix('orders', 3, at, 'UTC', '.gz')).toMatch(/^orders-3-2018-08-27-10-30-05-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$/);
  });
});
