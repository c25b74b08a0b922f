/**
 * CSVTOJSON — converts a delimiter-separated line to a JSON object.
 *
 *     { "optionName": "CSVTOJSON", "customFieldNames": ["time", "sensor", "value"], "delimiter": "\\t" }
 *
 * - `customFieldNames` (required): the keys, in column order. Missing columns become null,
 *   columns beyond the names are left out.
 * - `delimiter`: one character, default ",". Java escapes are understood ("\\t" is a tab, "\\|"
 *   is "|"), as the Kinesis Agent reads it with StringEscapeUtils.unescapeJava.
 * - `jsonFormat`: COMPACT (default) or PRETTYPRINT.
 *
 * Quoting follows the Kinesis Agent's CSV parser (opencsv, quote '"', escape '\'): a field may be
 * quoted, whitespace before its opening quote is ignored, inside quotes the delimiter is text,
 * `""` and `\"` are a quote and `\\` a backslash; text after the closing quote belongs to the same
 * field. A quote that does not open a field is text. An unterminated quoted field fails the line
 * with PARSE_FAILED. Output: `{"time":"…","sensor":"…","value":"…"}` and '\n'.
 */
import { ConfigError } from '../../shared/config-values.js';
import { checkFieldNames, jsonRecord, lineText, parseJsonFormat, type JsonFormat } from './json-record.js';
import { parseFailure, type KeyNamer, type ProcessorSpec } from './processor.js';

export interface CsvToJsonConfig {
  fieldNames: string[];
  delimiter: string;
  jsonFormat: JsonFormat;
}

const QUOTE = '"';
const ESCAPE = '\\';

export const csvToJson: ProcessorSpec<CsvToJsonConfig> = {
  optionName: 'CSVTOJSON',
  keys: ['customFieldNames', 'delimiter', 'jsonFormat'],
  parse(option, at) {
    if (option.customFieldNames === undefined) throw new ConfigError(at('customFieldNames'), 'is required: the JSON key for each column');
    return {
      fieldNames: checkFieldNames(option.customFieldNames, at('customFieldNames')),
      delimiter: option.delimiter === undefined ? ',' : checkDelimiter(option.delimiter, at),
      jsonFormat: parseJsonFormat(option, at),
    };
  },
  create({ fieldNames, delimiter, jsonFormat }) {
    return (data) => {
      const columns = splitCsvLine(lineText(data), delimiter);
      if (!columns) return parseFailure('CSVTOJSON: unterminated quoted field');
      return jsonRecord(
        fieldNames.map((name, i) => [name, columns[i] ?? null]),
        jsonFormat,
      );
    };
  },
};

function checkDelimiter(value: unknown, at: KeyNamer): string {
  if (typeof value !== 'string') throw new ConfigError(at('delimiter'), 'must be a string');
  const delimiter = unescapeJava(value);
  // opencsv takes one separator character; the oldest Kinesis Agent split on a regular expression.
  // Either way a longer delimiter does not do what it says, so it is an error here.
  if ([...delimiter].length !== 1) throw new ConfigError(at('delimiter'), `must be one character, got ${JSON.stringify(value)}`);
  if (delimiter === QUOTE || delimiter === ESCAPE) throw new ConfigError(at('delimiter'), `cannot be ${JSON.stringify(delimiter)}: it quotes or escapes fields`);
  return delimiter;
}

const javaEscapes: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', '\\': '\\', '"': '"', "'": "'" };

/** Java string escapes (commons-lang StringEscapeUtils.unescapeJava): \t, \uXXXX, …; a backslash before anything else is dropped. */
function unescapeJava(text: string): string {
  return text.replace(/\\(u+[0-9a-fA-F]{4}|.)/gs, (_escape, sequence: string) =>
    sequence.length > 1 ? String.fromCharCode(parseInt(sequence.slice(-4), 16)) : (javaEscapes[sequence] ?? sequence),
  );
}

/** The columns of one CSV line, or undefined when a quoted field is not closed. */
function splitCsvLine(line: string, delimiter: string): string[] | undefined {
  const columns: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    let afterWhitespace = i;
    while (afterWhitespace < line.length && line[afterWhitespace] !== delimiter && isWhitespace(line[afterWhitespace] as string)) afterWhitespace++;
    if (line[afterWhitespace] === QUOTE) {
      i = afterWhitespace + 1;
      let closed = false;
      while (i < line.length) {
        const char = line[i] as string;
        const next = line[i + 1];
        if ((char === ESCAPE || char === QUOTE) && (next === QUOTE || (char === ESCAPE && next === ESCAPE))) {
          field += next;
          i += 2;
        } else if (char === QUOTE) {
          i++;
          closed = true;
          break;
        } else {
          field += char;
          i++;
        }
      }
      if (!closed) return undefined;
    }
    while (i < line.length && line[i] !== delimiter) {
      const char = line[i] as string;
      const next = line[i + 1];
      if (char === ESCAPE && (next === QUOTE || next === ESCAPE)) {
        field += next;
        i += 2;
      } else {
        field += char;
        i++;
      }
    }
    columns.push(field);
    if (i >= line.length) return columns;
    i++; // the delimiter
  }
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t';
}
