/**
 * Hosted functions: Lambda-style event source mappings from a stream to a function, as the
 * collector config's `functions` array declares them. Settings carry Lambda's names, ranges and
 * defaults (Lambda API reference, CreateEventSourceMapping); a function is a local JavaScript
 * module run in a worker thread or an HTTP URL.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, checkBoolean, checkInteger, checkObject, checkString } from '../../../shared/config-values.js';
import { parseFilterPattern, type FilterPattern } from './filter.js';

export type FunctionTarget =
  /** `handler` names the export (default `handler`); `memoryMB` caps the worker thread's heap. */
  | { kind: 'module'; path: string; handler: string; memoryMB: number }
  | { kind: 'url'; url: string };

export interface EventSourceMapping {
  /** Unique; names the mapping's progress in the metadata store and its failure records. */
  name: string;
  streamName: string;
  target: FunctionTarget;
  timeoutSeconds: number;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  startingPositionTimestamp?: Date;
  parallelizationFactor: number;
  bisectBatchOnFunctionError: boolean;
  /** -1: retry until the records expire. */
  maximumRetryAttempts: number;
  /** -1: no limit. */
  maximumRecordAgeInSeconds: number;
  /** `arn:aws:kinesis:…:stream/NAME` or `arn:aws:s3:::BUCKET` (a folder under `<data-dir>/s3/`). */
  onFailure?: string;
  reportBatchItemFailures: boolean;
  tumblingWindowInSeconds: number;
  filters: FilterPattern[];
  enabled: boolean;
}

// Lambda quotas for Kinesis event sources (CreateEventSourceMapping API reference).
const MAX_BATCH_SIZE = 10_000;
const DEFAULT_BATCH_SIZE = 100;
const MAX_BATCHING_WINDOW_SECONDS = 300;
const MAX_PARALLELIZATION_FACTOR = 10;
const MAX_RETRY_ATTEMPTS = 10_000;
const MIN_RECORD_AGE_SECONDS = 60;
const MAX_RECORD_AGE_SECONDS = 604_800;
const MAX_TUMBLING_WINDOW_SECONDS = 900;
/** Lambda: function timeout 1–900 s, default 3 s; memory 128–10,240 MB, default 128 MB. */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;
const MAX_FILTERS = 5;

const KNOWN_KEYS = new Set([
  'name', 'streamName', 'module', 'handler', 'memoryMB', 'url', 'timeoutSeconds', 'BatchSize', 'MaximumBatchingWindowInSeconds',
  'StartingPosition', 'StartingPositionTimestamp', 'ParallelizationFactor', 'BisectBatchOnFunctionError', 'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds', 'DestinationConfig', 'FunctionResponseTypes', 'TumblingWindowInSeconds', 'FilterCriteria', 'Enabled',
]);

/** Validates the `functions` config array; module paths are resolved against `baseDir` (the config file's folder). */
export function checkEventSourceMappings(value: unknown, source: string, baseDir: string): EventSourceMapping[] {
  if (!Array.isArray(value)) throw new ConfigError(source, 'must be an array of event source mappings');
  const names = new Set<string>();
  return value.map((item, i) => {
    const mapping = checkMapping(item, `${source}[${i}]`, baseDir);
    if (names.has(mapping.name)) throw new ConfigError(`${source}[${i}].name`, `duplicate mapping name ${mapping.name}`);
    names.add(mapping.name);
    return mapping;
  });
}

function checkMapping(item: unknown, where: string, baseDir: string): EventSourceMapping {
  const entry = checkObject(item, where);
  for (const key of Object.keys(entry)) if (!KNOWN_KEYS.has(key)) throw new ConfigError(where, `unknown key '${key}' (known: ${[...KNOWN_KEYS].join(', ')})`);
  const at = (key: string) => `${where}.${key}`;
  const name = checkString(entry.name, at('name'));
  if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) throw new ConfigError(at('name'), 'must be 1–64 letters, digits, _ . -');
  if ((entry.module === undefined) === (entry.url === undefined)) throw new ConfigError(where, "needs exactly one of 'module' (a JavaScript file) and 'url'");
  let target: FunctionTarget;
  if (entry.module !== undefined) {
    const path = checkString(entry.module, at('module'));
    target = {
      kind: 'module',
      path: isAbsolute(path) ? path : resolve(baseDir, path),
      handler: entry.handler === undefined ? 'handler' : checkString(entry.handler, at('handler')),
      memoryMB: entry.memoryMB === undefined ? DEFAULT_MEMORY_MB : checkInteger(entry.memoryMB, at('memoryMB'), 16, 10_240),
    };
  } else {
    const url = checkString(entry.url, at('url'));
    if (!/^https?:\/\//.test(url)) throw new ConfigError(at('url'), 'must be an http:// or https:// URL');
    target = { kind: 'url', url };
  }
  const integer = (key: string, min: number, max: number, fallback: number) => (entry[key] === undefined ? fallback : checkInteger(entry[key], at(key), min, max));
  const startingPosition = entry.StartingPosition === undefined ? 'LATEST' : checkString(entry.StartingPosition, at('StartingPosition'));
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST' && startingPosition !== 'AT_TIMESTAMP') {
    throw new ConfigError(at('StartingPosition'), 'must be TRIM_HORIZON, LATEST or AT_TIMESTAMP');
  }
  let startingPositionTimestamp: Date | undefined;
  if (startingPosition === 'AT_TIMESTAMP') {
    startingPositionTimestamp = new Date(checkString(entry.StartingPositionTimestamp, at('StartingPositionTimestamp')));
    if (Number.isNaN(startingPositionTimestamp.getTime())) throw new ConfigError(at('StartingPositionTimestamp'), 'must be an ISO 8601 time');
  }
  const maximumRecordAgeInSeconds = integer('MaximumRecordAgeInSeconds', -1, MAX_RECORD_AGE_SECONDS, -1);
  if (maximumRecordAgeInSeconds !== -1 && maximumRecordAgeInSeconds < MIN_RECORD_AGE_SECONDS) {
    throw new ConfigError(at('MaximumRecordAgeInSeconds'), `must be -1 or between ${MIN_RECORD_AGE_SECONDS} and ${MAX_RECORD_AGE_SECONDS}`);
  }
  let onFailure: string | undefined;
  if (entry.DestinationConfig !== undefined) {
    const destination = checkObject(entry.DestinationConfig, at('DestinationConfig'));
    const failure = checkObject(destination.OnFailure, at('DestinationConfig.OnFailure'));
    onFailure = checkString(failure.Destination, at('DestinationConfig.OnFailure.Destination'));
    if (!/^arn:aws[\w-]*:(kinesis:[\w-]+:\d{12}:stream\/[a-zA-Z0-9_.-]+|s3:::[a-z0-9.-]{3,63})$/.test(onFailure)) {
      throw new ConfigError(at('DestinationConfig.OnFailure.Destination'), 'must be a Kinesis stream ARN or an S3 bucket ARN (arn:aws:s3:::bucket)');
    }
  }
  let reportBatchItemFailures = false;
  if (entry.FunctionResponseTypes !== undefined) {
    if (!Array.isArray(entry.FunctionResponseTypes) || !entry.FunctionResponseTypes.every((t) => t === 'ReportBatchItemFailures')) {
      throw new ConfigError(at('FunctionResponseTypes'), "may only hold 'ReportBatchItemFailures'");
    }
    reportBatchItemFailures = entry.FunctionResponseTypes.length > 0;
  }
  let filters: FilterPattern[] = [];
  if (entry.FilterCriteria !== undefined) {
    const criteria = checkObject(entry.FilterCriteria, at('FilterCriteria'));
    if (!Array.isArray(criteria.Filters) || criteria.Filters.length > MAX_FILTERS) throw new ConfigError(at('FilterCriteria.Filters'), `must be an array of at most ${MAX_FILTERS} filters`);
    filters = criteria.Filters.map((filter, i) => {
      const pattern = checkString(checkObject(filter, at(`FilterCriteria.Filters[${i}]`)).Pattern, at(`FilterCriteria.Filters[${i}].Pattern`));
      try {
        return parseFilterPattern(pattern);
      } catch (error) {
        throw new ConfigError(at(`FilterCriteria.Filters[${i}].Pattern`), (error as Error).message);
      }
    });
  }
  return {
    name,
    streamName: checkString(entry.streamName, at('streamName')),
    target,
    timeoutSeconds: integer('timeoutSeconds', 1, 900, DEFAULT_TIMEOUT_SECONDS),
    batchSize: integer('BatchSize', 1, MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE),
    maximumBatchingWindowInSeconds: integer('MaximumBatchingWindowInSeconds', 0, MAX_BATCHING_WINDOW_SECONDS, 0),
    startingPosition,
    ...(startingPositionTimestamp ? { startingPositionTimestamp } : {}),
    parallelizationFactor: integer('ParallelizationFactor', 1, MAX_PARALLELIZATION_FACTOR, 1),
    bisectBatchOnFunctionError: entry.BisectBatchOnFunctionError === undefined ? false : checkBoolean(entry.BisectBatchOnFunctionError, at('BisectBatchOnFunctionError')),
    maximumRetryAttempts: integer('MaximumRetryAttempts', -1, MAX_RETRY_ATTEMPTS, -1),
    maximumRecordAgeInSeconds,
    ...(onFailure !== undefined ? { onFailure } : {}),
    reportBatchItemFailures,
    tumblingWindowInSeconds: integer('TumblingWindowInSeconds', 0, MAX_TUMBLING_WINDOW_SECONDS, 0),
    filters,
    enabled: entry.Enabled === undefined ? true : checkBoolean(entry.Enabled, at('Enabled')),
  };
}
