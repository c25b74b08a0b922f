/**
 * ADDMETADATA — wraps the line in a JSON object with fixed metadata.
 *
 *     { "optionName": "ADDMETADATA", "timestamp": "true", "metadata": { "site": "greenhouse-2", "rack": 4 } }
 *
 * - `metadata` (required): any JSON value, written as given.
 * - `timestamp`: "true" adds `ts`, the time of processing in UTC with milliseconds
 *   (2026-01-01T12:00:00.000Z). Default "false". true/false without quotes work too.
 * - `jsonFormat`: COMPACT (default) or PRETTYPRINT.
 *
 * Output, as the Kinesis Agent's AddMetadataConverter writes it:
 * `{"ts":"…","metadata":{…},"data":"<the line without its '\n'>"}` and '\n'.
 */
import { ConfigError, checkBoolean } from '../../shared/config-values.js';
import { jsonRecord, lineText, parseJsonFormat, type JsonFormat } from './json-record.js';
import type { ProcessorSpec } from './processor.js';

export interface AddMetadataConfig {
  metadata: unknown;
  timestamp: boolean;
  jsonFormat: JsonFormat;
}

export const addMetadata: ProcessorSpec<AddMetadataConfig> = {
  optionName: 'ADDMETADATA',
  keys: ['metadata', 'timestamp', 'jsonFormat'],
  parse(option, at) {
    if (option.metadata === undefined) throw new ConfigError(at('metadata'), 'is required: the JSON value to add to every record');
    return {
      metadata: option.metadata,
      timestamp: option.timestamp === undefined ? false : checkBoolean(option.timestamp, at('timestamp')),
      jsonFormat: parseJsonFormat(option, at),
    };
  },
  create({ metadata, timestamp, jsonFormat }, { clock }) {
    return (data) => {
      const entries: Array<[string, unknown]> = [];
      if (timestamp) entries.push(['ts', new Date(clock.now()).toISOString()]);
      entries.push(['metadata', metadata], ['data', lineText(data)]);
      return jsonRecord(entries, jsonFormat);
    };
  },
};
