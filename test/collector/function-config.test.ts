/**
 * Hosted-function mapping settings and FilterCriteria patterns: Lambda's defaults and ranges, errors
 * that name the key, and the EventBridge matchers the e2e test does not reach.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config-values.js';
import { checkEventSourceMappings } from '../../collector/consumers/functions/config.js';
import { matchesAnyFilter, parseFilterPattern } from '../../collector/consumers/functions/filter.js';

const check = (entry: object) => checkEventSourceMappings([entry], 'collector.json: key \'functions\'', '/etc/riffle');
const base = { name: 'f', streamName: 's', module: 'fn.mjs' };

describe('event source mapping settings', () => {
  it("applies Lambda's defaults and resolves the module against the config file's folder", () => {
    expect(check(base)[0]).toMatchObject({
      target: { kind: 'module', path: '/etc/riffle/fn.mjs', handler: 'handler', memoryMB: 128 },
      timeoutSeconds: 3,
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      startingPosition: 'LATEST',
      parallelizationFactor: 1,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      reportBatchItemFailures: false,
      tumblingWindowInSeconds: 0,
      filters: [],
      enabled: true,
    });
  });

  it.each([
    [{ ...base, BatchSize: 10_001 }, "functions'[0].BatchSize"],
    [{ ...base, ParallelizationFactor: 11 }, "functions'[0].ParallelizationFactor"],
    [{ ...base, MaximumRecordAgeInSeconds: 30 }, "functions'[0].MaximumRecordAgeInSeconds"],
    [{ ...base, TumblingWindowInSeconds: 901 }, "functions'[0].TumblingWindowInSeconds"],
    [{ ...base, StartingPosition: 'AT_TIMESTAMP' }, "functions'[0].StartingPositionTimestamp"],
    [{ ...base, url: 'http://x/' }, "functions'[0]"],
    [{ ...base, FunctionResponseTypes: ['Other'] }, "functions'[0].FunctionResponseTypes"],
    [{ ...base, DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } } }, "functions'[0].DestinationConfig.OnFailure.Destination"],
    [{ ...base, FilterCriteria: { Filters: [{ Pattern: '{"data": {"x": [{"wildcard": "a*"}]}}' }] } }, "functions'[0].FilterCriteria.Filters[0].Pattern"],
    [{ ...base, Batchsize: 5 }, "functions'[0]"],
  ])('refuses %j, naming %s', (entry, where) => {
    let error: unknown;
    try {
      check(entry);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(where);
  });

  it('refuses two mappings of one name', () => {
    expect(() => checkEventSourceMappings([base, base], 'functions', '/')).toThrow(/duplicate mapping name f/);
  });
});

describe('FilterCriteria patterns', () => {
  const record = { partitionKey: 'Device-7', sequenceNumber: '49', data: { kind: 'alert', level: 7, tags: ['hot', 'roof'], site: { name: 'north-barn' } } };
  it.each([
    ['{"data": {"kind": ["alert"]}}', true],
    ['{"data": {"kind": ["info", "alert"]}}', true],
    ['{"data": {"kind": ["info"]}}', false],
    ['{"data": {"tags": ["roof"]}}', true],
    ['{"data": {"site": {"name": [{"prefix": "north"}]}}}', true],
    ['{"data": {"site": {"name": [{"suffix": "barn"}]}}}', true],
    ['{"partitionKey": [{"equals-ignore-case": "device-7"}]}', true],
    ['{"data": {"kind": [{"anything-but": ["info", "debug"]}]}}', true],
    ['{"data": {"kind": [{"anything-but": "alert"}]}}', false],
    ['{"data": {"kind": [{"anything-but": {"prefix": "al"}}]}}', false],
    ['{"data": {"level": [{"numeric": [">", 5, "<=", 7]}]}}', true],
    ['{"data": {"level": [{"numeric": ["<", 5]}]}}', false],
    ['{"data": {"missing": [{"exists": false}]}}', true],
    ['{"data": {"level": [{"exists": false}]}}', false],
    ['{"data": {"site": [{"exists": true}]}}', true],
    ['{"data": {"kind": ["alert"]}, "partitionKey": ["other"]}', false],
  ])('%s → %s', (pattern, expected) => {
    expect(matchesAnyFilter([parseFilterPattern(pattern)], record)).toBe(expected);
  });

  it('lets every record through without filters, and one through when any filter matches', () => {
    expect(matchesAnyFilter([], record)).toBe(true);
    expect(matchesAnyFilter([parseFilterPattern('{"data": {"kind": ["info"]}}'), parseFilterPattern('{"partitionKey": [{"prefix": "Device"}]}')], record)).toBe(true);
  });
});
