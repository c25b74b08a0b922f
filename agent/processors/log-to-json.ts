/**
 * LOGTOJSON — parses a log line and writes its fields as a JSON object.
 *
 *     { "optionName": "LOGTOJSON", "logFormat": "COMMONAPACHELOG" }
 *     { "optionName": "LOGTOJSON", "logFormat": "SYSLOG", "matchPattern": "^(\\w+) (.*)$", "customFieldNames": ["level", "text"] }
 *
 * - `logFormat` (required): COMMONAPACHELOG, COMBINEDAPACHELOG, APACHEERRORLOG, SYSLOG (RFC 3164
 *   as syslog daemons write it to files) or RFC3339SYSLOG (the same with an RFC 3339 timestamp,
 *   rsyslog's file format). Fields:
 *   - COMMONAPACHELOG: host, ident, authuser, datetime, request, response, bytes
 *   - COMBINEDAPACHELOG: the same plus referer, agent
 *   - APACHEERRORLOG: timestamp, module, severity, processid, threadid, client, message
 *   - SYSLOG, RFC3339SYSLOG: timestamp, hostname, program, processid, message
 *   In the Apache formats a "-" value becomes null; a part the line does not have is null.
 * - `customFieldNames`: other names for the format's fields (as many as it has), or the names
 *   of `matchPattern`'s capture groups.
 * - `matchPattern`: a regular expression that replaces the format's pattern; it must match the
 *   whole line and needs `customFieldNames`, one per capture group. JavaScript syntax, which
 *   accepts most Java patterns (not possessive quantifiers, atomic groups or inline flags).
 *   `logFormat` still decides whether "-" means null.
 * - `jsonFormat`: COMPACT (default) or PRETTYPRINT.
 *
 * All values are strings (or null). A line that does not match fails with PARSE_FAILED; the
 * Kinesis Agent drops such lines without a word.
 */
import { ConfigError, checkString } from '../../shared/config-values.js';
import { checkFieldNames, jsonRecord, lineText, parseJsonFormat, type JsonFormat } from './json-record.js';
import { logFormats, type LogFormatName } from './log-formats.js';
import { parseFailure, type KeyNamer, type ProcessorSpec } from './processor.js';

export interface LogToJsonConfig {
  logFormat: LogFormatName;
  /** Matches a whole line, capture group i is field i. */
  pattern: RegExp;
  fields: string[];
  dashIsNull: boolean;
  jsonFormat: JsonFormat;
}

const formatNames = Object.keys(logFormats) as LogFormatName[];

export const logToJson: ProcessorSpec<LogToJsonConfig> = {
  optionName: 'LOGTOJSON',
  keys: ['logFormat', 'matchPattern', 'customFieldNames', 'jsonFormat'],
  parse(option, at) {
    const logFormat = checkLogFormat(option.logFormat, at);
    const format = logFormats[logFormat];
    const customFields = option.customFieldNames === undefined ? undefined : checkFieldNames(option.customFieldNames, at('customFieldNames'));
    const jsonFormat = parseJsonFormat(option, at);
    if (option.matchPattern === undefined) {
      if (customFields && customFields.length !== format.fields.length) {
        throw new ConfigError(at('customFieldNames'), `${logFormat} has ${format.fields.length} fields (${format.fields.join(', ')}), got ${customFields.length} names`);
      }
      return { logFormat, pattern: wholeLine(format.pattern), fields: customFields ?? [...format.fields], dashIsNull: format.dashIsNull, jsonFormat };
    }
    const source = checkString(option.matchPattern, at('matchPattern'));
    if (!customFields) throw new ConfigError(at('customFieldNames'), 'is required with matchPattern: one name per capture group');
    const pattern = compileMatchPattern(source, at);
    const groups = captureGroupCount(pattern);
    if (groups !== customFields.length) {
      throw new ConfigError(at('customFieldNames'), `matchPattern has ${groups} capture groups, got ${customFields.length} names`);
    }
    return { logFormat, pattern, fields: customFields, dashIsNull: format.dashIsNull, jsonFormat };
  },
  create({ logFormat, pattern, fields, dashIsNull, jsonFormat }) {
    return (data) => {
      const match = pattern.exec(lineText(data));
      if (!match) return parseFailure(`LOGTOJSON: line does not match the ${logFormat} pattern`);
      return jsonRecord(
        fields.map((name, i) => {
          const value = match[i + 1];
          return [name, value === undefined || (dashIsNull && value === '-') ? null : value];
        }),
        jsonFormat,
      );
    };
  },
};

function checkLogFormat(value: unknown, at: KeyNamer): LogFormatName {
  if (value === undefined) throw new ConfigError(at('logFormat'), `is required: one of ${formatNames.join(', ')}`);
  if (!formatNames.includes(value as LogFormatName)) throw new ConfigError(at('logFormat'), `must be one of ${formatNames.join(', ')}, got ${JSON.stringify(value)}`);
  return value as LogFormatName;
}

/** Java's Matcher.matches(): the pattern must match the whole line. */
function wholeLine(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

function compileMatchPattern(source: string, at: KeyNamer): RegExp {
  try {
    return wholeLine(source);
  } catch (error) {
    throw new ConfigError(at('matchPattern'), `is not a valid regular expression: ${(error as Error).message}`);
  }
}

function captureGroupCount(pattern: RegExp): number {
  // An empty alternative matches "" and reports every group, matched or not.
  return (new RegExp(`${pattern.source}|`).exec('') as RegExpExecArray).length - 1;
}
