/**
 * The log formats LOGTOJSON knows, with the Kinesis Agent's patterns and field names
 * (amazon-kinesis-agent processing/parsers/PatternConstants.java, ApacheLogParser.java,
 * SysLogParser.java). The patterns are grok-style building blocks; a whole line must match.
 */

const INT = String.raw`(?:[+-]?(?:[0-9]+))`;
const POSINT = String.raw`(?:[1-9][0-9]*)`;
const NONNEGINT = String.raw`(?:[0-9]+)`;
const ANYDATA = '.*';
const WORD = String.raw`\w+`;
const NOQUOTE = '[^"]+';

const IP = String.raw`(?:[\d.]+)`;
const HOSTNAME = String.raw`(?:[\w-]+)(?:\.(?:[\w-]+))*(?:\.?|\b)`;
const IPORHOST = `(?:${HOSTNAME}|${IP})`;
const URIHOST = `(?:${IPORHOST}(?::${POSINT})?)`;
const USER = '(?:[a-zA-Z0-9._-]+)';

const MONTHDAY = '(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])';
const DAY = '(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)';
const MONTH = String.raw`\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b`;
const YEAR = String.raw`(?:[1-9]\d*)`;
const HOUR = '(?:2[0123]|[01]?[0-9])';
const MINUTE = '(?:[0-5][0-9])';
const SECOND = '(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)';
const TIME = `(?:${HOUR}:${MINUTE}:${SECOND})`;
const HTTPDATE = String.raw`(?:${MONTHDAY}/${MONTH}/${YEAR}:${TIME}\s${INT})`;
const APACHE_ERROR_LOG_TIMESTAMP = String.raw`(?:${DAY}\s+${MONTH}\s+${MONTHDAY}\s+${TIME}\s+${YEAR})`;
const SYSLOG_TIMESTAMP = String.raw`(?:${MONTH}\s+${MONTHDAY}\s+${TIME})`;
const RFC3339 = String.raw`(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:Z|(?:[-+]\d{2}:\d{2}))`;

// The Kinesis Agent leaves the '.' between facility and priority unescaped; so does Riffle.
const SYSLOG_FACILITY = `<${NONNEGINT}.${NONNEGINT}>`;
const PROG = String.raw`([\w._/%-]+)`;
const SYSLOG_PROG = String.raw`${PROG}(?:\[(${POSINT})\])?`;

const COMMON_APACHE_LOG = String.raw`(${IPORHOST}) (${USER}) (${USER}) \[(${HTTPDATE})\] "(${NOQUOTE})" (${INT}|-) (${INT}|-)`;
const COMBINED_APACHE_LOG = `${COMMON_APACHE_LOG} "(${NOQUOTE})" "(${NOQUOTE})"`;
const APACHE_ERROR_LOG =
  String.raw`\[(${APACHE_ERROR_LOG_TIMESTAMP})\] \[(?:(${WORD}):)?(${WORD})\] \[pid (${NONNEGINT})(?::tid (${NONNEGINT}))?\] ` +
  String.raw`\[client (${URIHOST})\] (${ANYDATA})`;
const SYSLOG = `(${SYSLOG_TIMESTAMP}) (?:${SYSLOG_FACILITY} )?(${USER}) ${SYSLOG_PROG}: (${ANYDATA})`;
const RFC3339_SYSLOG = `(${RFC3339}) (?:${SYSLOG_FACILITY} )?(${USER}) ${SYSLOG_PROG}: (${ANYDATA})`;

const COMMON_LOG_FIELDS = ['host', 'ident', 'authuser', 'datetime', 'request', 'response', 'bytes'];
const SYSLOG_FIELDS = ['timestamp', 'hostname', 'program', 'processid', 'message'];

export interface LogFormat {
  /** Regular expression source (JavaScript syntax) that the whole line must match. */
  pattern: string;
  fields: readonly string[];
  /** Apache logs write "-" for a missing value; the Kinesis Agent turns it into null. */
  dashIsNull: boolean;
}

export const logFormats = {
  // The access log patterns may be followed by anything (the Kinesis Agent appends ".*").
  COMMONAPACHELOG: { pattern: `${COMMON_APACHE_LOG}${ANYDATA}`, fields: COMMON_LOG_FIELDS, dashIsNull: true },
  COMBINEDAPACHELOG: { pattern: `${COMBINED_APACHE_LOG}${ANYDATA}`, fields: [...COMMON_LOG_FIELDS, 'referer', 'agent'], dashIsNull: true },
  APACHEERRORLOG: {
    pattern: APACHE_ERROR_LOG,
    fields: ['timestamp', 'module', 'severity', 'processid', 'threadid', 'client', 'message'],
    dashIsNull: true,
  },
  SYSLOG: { pattern: SYSLOG, fields: SYSLOG_FIELDS, dashIsNull: false },
  RFC3339SYSLOG: { pattern: RFC3339_SYSLOG, fields: SYSLOG_FIELDS, dashIsNull: false },
} satisfies Record<string, LogFormat>;

export type LogFormatName = keyof typeof logFormats;
