/**
 * MetadataExtraction: a jq query (JsonParsingEngine JQ-1.6) over each JSON record yields the
 * partition keys of dynamic partitioning — `!{partitionKeyFromQuery:<key>}` in the S3 prefix. The
 * query runs in jq-web (jq itself, compiled to WebAssembly), so filters behave as in jq.
 *
 * A record that is not JSON, a query that fails, or a result that is not an object of scalar
 * values fails the record to processing-failed.
 */
import { createRequire } from 'node:module';
import type { Jq } from 'jq-web';
import { AwsError } from '../../../shared/errors.js';
import { processingFailure, type ProcessingRecord, type ProcessorSpec } from './index.js';

// Firehose's MetadataExtraction parameter JsonParsingEngine has one value.
const SUPPORTED_ENGINES = ['JQ-1.6'];

// jq-web is CommonJS whose export is a promise; loaded on first use through require, so an ESM
// loader never tries to treat the module itself as a thenable, and the wasm loads only when needed.
let jqModule: Promise<Jq> | undefined;
function loadJq(): Promise<Jq> {
  jqModule ??= createRequire(import.meta.url)('jq-web') as Promise<Jq>;
  return jqModule;
}

export const metadataExtractionProcessor: ProcessorSpec = {
  type: 'MetadataExtraction',
  order: 40,
  check(parameters) {
    const query = parameters.get('MetadataExtractionQuery');
    if (!query) throw new AwsError('InvalidArgumentException', 'MetadataExtraction needs a MetadataExtractionQuery.');
    const engine = parameters.get('JsonParsingEngine') ?? 'JQ-1.6';
    if (!SUPPORTED_ENGINES.includes(engine)) throw new AwsError('InvalidArgumentException', `JsonParsingEngine ${engine} is not supported; use JQ-1.6.`);
  },
  create(parameters) {
    const query = parameters.get('MetadataExtractionQuery')!;
    return {
      async process(records, context) {
        const jq = await loadJq();
        const out: ProcessingRecord[] = [];
        const failed = [];
        for (const record of records) {
          let keys: Record<string, string>;
          try {
            keys = partitionKeysOf(jq.json(JSON.parse(record.data.toString('utf8')), query));
          } catch (error) {
            failed.push(processingFailure(record, 'DynamicPartitioning.MetadataExtractionFailed', `Metadata extraction failed: ${(error as Error).message}`, context));
            continue;
          }
          out.push({ ...record, partitionKeysFromQuery: keys });
        }
        return { records: out, failed };
      },
    };
  },
};

function partitionKeysOf(result: unknown): Record<string, string> {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new Error('the query must produce one JSON object');
  const keys: Record<string, string> = {};
  for (const [key, value] of Object.entries(result)) {
    if (value === null || typeof value === 'object') throw new Error(`partition key ${key} is not a scalar value`);
    keys[key] = String(value);
  }
  return keys;
}
