import { describe, expect, it } from 'vitest';
import { buildProcessors, isProcessFailure, optionNames, type ProcessResult } from '../../agent/processors/index.js';
import { ManualClock } from '../../shared/clock.js';
import { ConfigError } from '../../shared/config-values.js';

const where = '/etc/riffle/agent.json: flows[0]';

function run(options: unknown[], line: string | Buffer, clock = new ManualClock()): ProcessResult {
  return buildProcessors(options, where, { clock })(Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'));
}

/** The output as text; fails the test on a ProcessFailure. */
function text(result: ProcessResult): string {
  if (isProcessFailure(result)) throw new Error(`unexpected failure ${result.code}: ${result.reason}`);
  return result.toString('utf8');
}

/** The output as a JSON record: one object and the '\n' every converter ends with. */
function json(result: ProcessResult): unknown {
  const output = text(result);
  expect(output.endsWith('\n')).toBe(true);
  return JSON.parse(output);
}

function configErrorSource(options: unknown[]): string {
  try {
    buildProcessors(options, where);
  } catch (error) {
    if (error instanceof ConfigError) return error.source;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const key = (path: string) => `${where}: key 'dataProcessingOptions${path}'`;

describe('LOGTOJSON', () => {
  // Sample lines: Apache httpd's log documentation, the Kinesis Agent docs, syslog files as
  // rsyslog writes them (traditional and RSYSLOG_FileFormat).
  const parsed: Array<{ logFormat: string; line: string; expected: Record<string, string | null> }> = [
    {
      logFormat: 'COMMONAPACHELOG',
      line: '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n',
      expected: { host: '127.0.0.1', ident: null, authuser: 'frank', datetime: '10/Oct/2000:13:55:36 -0700', request: 'GET /apache_pb.gif HTTP/1.0', response: '200', bytes: '2326' },
    },
    {
      logFormat: 'COMMONAPACHELOG',
      line: 'sensor-gw.local - - [01/Jan/2026:00:00:01 +0000] "POST /api/readings HTTP/1.1" 204 -\n',
      expected: { host: 'sensor-gw.local', ident: null, authuser: null, datetime: '01/Jan/2026:00:00:01 +0000', request: 'POST /api/readings HTTP/1.1', response: '204', bytes: null },
    },
    {
      logFormat: 'COMMONAPACHELOG', // a combined line is a common line followed by more
      line: '10.0.0.5 - - [07/Mar/2026:12:23:45 +0100] "GET / HTTP/1.1" 200 512 "-" "curl/8.5.0"',
      expected: { host: '10.0.0.5', ident: null, authuser: null, datetime: '07/Mar/2026:12:23:45 +0100', request: 'GET / HTTP/1.1', response: '200', bytes: '512' },
    },
    {
      logFormat: 'COMBINEDAPACHELOG',
      line: '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"\n',
      expected: {
        host: '127.0.0.1',
        ident: null,
        authuser: 'frank',
        datetime: '10/Oct/2000:13:55:36 -0700',
        request: 'GET /apache_pb.gif HTTP/1.0',
        response: '200',
        bytes: '2326',
        referer: 'http://www.example.com/start.html',
        agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
      },
    },
    {
      logFormat: 'COMBINEDAPACHELOG',
      line: '192.168.1.20 - - [28/Jul/2006:10:27:10 -0300] "GET /cgi-bin/try/ HTTP/1.0" 200 3395 "-" "Mozilla/5.0 (X11; Linux x86_64)"\n',
      expected: {
        host: '192.168.1.20',
        ident: null,
        authuser: null,
        datetime: '28/Jul/2006:10:27:10 -0300',
        request: 'GET /cgi-bin/try/ HTTP/1.0',
        response: '200',
        bytes: '3395',
        referer: null,
        agent: 'Mozilla/5.0 (X11; Linux x86_64)',
      },
    },
    {
      logFormat: 'APACHEERRORLOG',
      line: '[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico\n',
      expected: {
        timestamp: 'Fri Sep 09 10:42:29.902022 2011',
        module: 'core',
        severity: 'error',
        processid: '35708',
        threadid: '4328636416',
        client: '72.15.99.187',
        message: 'File does not exist: /usr/local/apache2/htdocs/favicon.ico',
      },
    },
    {
      logFormat: 'APACHEERRORLOG',
      line: '[Wed Oct 11 14:32:52 2000] [error] [pid 1234] [client 127.0.0.1:50312] client denied by server configuration: /export/home/live/ap/htdocs/test\n',
      expected: {
        timestamp: 'Wed Oct 11 14:32:52 2000',
        module: null,
        severity: 'error',
        processid: '1234',
        threadid: null,
        client: '127.0.0.1:50312',
        message: 'client denied by server configuration: /export/home/live/ap/htdocs/test',
      },
    },
    {
      logFormat: 'SYSLOG',
      line: "Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds)\n",
      expected: { timestamp: 'Mar 12 12:00:08', hostname: 'server2', program: 'rcd', processid: '308', message: "Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds)" },
    },
    {
      logFormat: 'SYSLOG',
      line: 'Jan  1 00:00:01 raspberrypi kernel: [    0.000000] Booting Linux on physical CPU 0x0\n',
      expected: { timestamp: 'Jan  1 00:00:01', hostname: 'raspberrypi', program: 'kernel', processid: null, message: '[    0.000000] Booting Linux on physical CPU 0x0' },
    },
    {
      logFormat: 'SYSLOG',
      line: 'Oct 11 22:14:15 <4.6> mymachine su: - is kept as text in syslog\n',
      expected: { timestamp: 'Oct 11 22:14:15', hostname: 'mymachine', program: 'su', processid: null, message: '- is kept as text in syslog' },
    },
    {
      logFormat: 'RFC3339SYSLOG',
      line: '2026-03-07T12:23:45.123456+01:00 pi-zero sshd[1234]: Accepted publickey for pi from 10.0.0.2 port 50622 ssh2\n',
      expected: { timestamp: '2026-03-07T12:23:45.123456+01:00', hostname: 'pi-zero', program: 'sshd', processid: '1234', message: 'Accepted publickey for pi from 10.0.0.2 port 50622 ssh2' },
    },
    {
      logFormat: 'RFC3339SYSLOG',
      line: '2026-01-01T00:00:00Z greenhouse systemd/journal: -\n',
      expected: { timestamp: '2026-01-01T00:00:00Z', hostname: 'greenhouse', program: 'systemd/journal', processid: null, message: '-' },
    },
  ];

  it.each(parsed)('$logFormat: $line', ({ logFormat, line, expected }) => {
    const output = json(run([{ optionName: 'LOGTOJSON', logFormat }], line));
    expect(output).toEqual(expected);
    expect(Object.keys(output as object)).toEqual(Object.keys(expected)); // the Kinesis Agent's field order
  });

  const unparsable: Array<[string, string]> = [
    ['COMMONAPACHELOG', 'this is not an access log line\n'],
    ['COMMONAPACHELOG', '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" two-hundred 2326\n'],
    ['COMBINEDAPACHELOG', '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n'],
    ['APACHEERRORLOG', 'AH00558: httpd: Could not reliably determine the server\'s fully qualified domain name\n'],
    ['SYSLOG', '2026-03-07T12:23:45+01:00 pi-zero sshd[1234]: an RFC 3339 timestamp is not SYSLOG\n'],
    // RFC 5424 on the wire (PRI and VERSION first) is not RFC3339SYSLOG, a file format.
    ['RFC3339SYSLOG', "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8\n"],
    ['RFC3339SYSLOG', 'Mar 12 12:00:08 server2 rcd[308]: a traditional timestamp is not RFC 3339\n'],
    ['SYSLOG', ''],
  ];

  it.each(unparsable)('%s fails with PARSE_FAILED on %j', (logFormat, line) => {
    const result = run([{ optionName: 'LOGTOJSON', logFormat }], line);
    expect(isProcessFailure(result) && result.code).toBe('PARSE_FAILED');
  });

  it('customFieldNames renames the format fields', () => {
    const line = 'Mar 12 12:00:08 server2 rcd[308]: started\n';
    const output = json(run([{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', customFieldNames: ['time', 'host', 'app', 'pid', 'text'] }], line));
    expect(output).toEqual({ time: 'Mar 12 12:00:08', host: 'server2', app: 'rcd', pid: '308', text: 'started' });
  });

  it('matchPattern replaces the pattern; the log format still decides what "-" means', () => {
    const option = { optionName: 'LOGTOJSON', matchPattern: String.raw`(\d+) (\w+) (\S+)`, customFieldNames: ['10', 'sensor', 'value'] };
    const line = '1767225600 greenhouse -\n';
    expect(text(run([{ ...option, logFormat: 'COMMONAPACHELOG' }], line))).toBe('{"10":"1767225600","sensor":"greenhouse","value":null}\n');
    expect(text(run([{ ...option, logFormat: 'SYSLOG' }], line))).toBe('{"10":"1767225600","sensor":"greenhouse","value":"-"}\n');
  });

  it('matchPattern must match the whole line, as Java\'s Matcher.matches()', () => {
    const options = [{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', matchPattern: String.raw`(\d+)|(x)`, customFieldNames: ['number', 'x'] }];
    expect(json(run(options, '42\n'))).toEqual({ number: '42', x: null });
    expect(isProcessFailure(run(options, '42 and more\n'))).toBe(true);
    expect(isProcessFailure(run(options, 'more 42\n'))).toBe(true);
  });

  it('PRETTYPRINT writes the layout of Jackson\'s default pretty printer', () => {
    const line = 'Jan  1 00:00:01 pi cron[7]: tick\n';
    expect(text(run([{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', jsonFormat: 'PRETTYPRINT' }], line))).toBe(
      '{\n  "timestamp" : "Jan  1 00:00:01",\n  "hostname" : "pi",\n  "program" : "cron",\n  "processid" : "7",\n  "message" : "tick"\n}\n',
    );
  });
});

describe('CSVTOJSON', () => {
  const names = ['time', 'sensor', 'value', 'note'];
  const rows: Array<{ line: string; delimiter?: string; expected: Array<string | null> }> = [
    { line: '2026-01-01T00:00:00Z,t1,21.5,ok\n', expected: ['2026-01-01T00:00:00Z', 't1', '21.5', 'ok'] },
    { line: '2026-01-01T00:00:00Z,t1,21.5\n', expected: ['2026-01-01T00:00:00Z', 't1', '21.5', null] },
    { line: '2026-01-01T00:00:00Z,t1,21.5,ok,extra,columns\n', expected: ['2026-01-01T00:00:00Z', 't1', '21.5', 'ok'] },
    { line: 'a,,c,\n', expected: ['a', '', 'c', ''] },
    { line: '\n', expected: ['', null, null, null] },
    { line: 'no newline at the end', expected: ['no newline at the end', null, null, null] },
    { line: 't,s,"21,5","said ""hi"""\n', expected: ['t', 's', '21,5', 'said "hi"'] },
    { line: String.raw`t,s,"back\"slash","a\\b"` + '\n', expected: ['t', 's', 'back"slash', String.raw`a\b`] },
    { line: String.raw`t,s,un\"quoted,c:\temp` + '\n', expected: ['t', 's', 'un"quoted', String.raw`c:\temp`] },
    { line: 't, s,  "quoted after spaces" ,5" tall\n', expected: ['t', ' s', 'quoted after spaces ', '5" tall'] },
    { line: 't;s;21,5;"a;b"\n', delimiter: ';', expected: ['t', 's', '21,5', 'a;b'] },
    { line: 't\ts\t21.5\t"tab\tinside"\n', delimiter: '\\t', expected: ['t', 's', '21.5', 'tab\tinside'] },
    { line: 't\t\t"x"\t\n', delimiter: '\t', expected: ['t', '', 'x', ''] },
    { line: 't|s|21.5|"|"\n', delimiter: '\\|', expected: ['t', 's', '21.5', '|'] },
    { line: 'température,capteur ☀,21.5,ünïcödé\n', expected: ['température', 'capteur ☀', '21.5', 'ünïcödé'] },
  ];

  it.each(rows)('$line (delimiter $delimiter)', ({ line, delimiter, expected }) => {
    const option = { optionName: 'CSVTOJSON', customFieldNames: names, ...(delimiter !== undefined ? { delimiter } : {}) };
    const output = json(run([option], line));
    expect(output).toEqual(Object.fromEntries(names.map((name, i) => [name, expected[i]])));
  });

  it('keeps the order of customFieldNames, numeric-looking names included', () => {
    expect(text(run([{ optionName: 'CSVTOJSON', customFieldNames: ['b', '2', 'a', '1'] }], 'w,x,y,z\n'))).toBe('{"b":"w","2":"x","a":"y","1":"z"}\n');
  });

  it.each(['"never closed\n', 'a,"b,c\n', 'a,"b""\n'])('an unterminated quote fails with PARSE_FAILED: %j', (line) => {
    const result = run([{ optionName: 'CSVTOJSON', customFieldNames: names }], line);
    expect(isProcessFailure(result) && result.code).toBe('PARSE_FAILED');
  });
});

describe('SINGLELINE', () => {
  const lines: Array<[string, string]> = [
    ['one line\n', 'one line\n'],
    ['no newline', 'no newline\n'],
    ['Exception in thread "main" java.lang.IllegalStateException: boom\n\tat Main.run(Main.java:10)\n\tat Main.main(Main.java:3)\n', 'Exception in thread "main" java.lang.IllegalStateException: boomat Main.run(Main.java:10)at Main.main(Main.java:3)\n'],
    ['  leading and trailing  \r\n  spaces \n', 'leading and trailingspaces\n'],
    ['a\n\n\nb\n', 'ab\n'],
    ['\n', '\n'],
    ['', '\n'],
    ['  ünïcödé ☀ \n  ok', 'ünïcödé ☀ok\n'],
  ];
  it.each(lines)('%j becomes %j', (input, expected) => {
    expect(text(run([{ optionName: 'SINGLELINE' }], input))).toBe(expected);
  });
});

describe('ADDBRACKETS', () => {
  it('wraps the record, its newline included', () => {
    expect(text(run([{ optionName: 'ADDBRACKETS' }], 'hello there\n'))).toBe('{hello there\n}');
  });
});

describe('ADDMETADATA', () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 7, 12, 3, 4, 5));
  const metadata = { site: 'greenhouse-2', rack: 4, tags: ['a', 'b'], nested: { on: true } };

  it('wraps the line with the metadata', () => {
    expect(text(run([{ optionName: 'ADDMETADATA', metadata }], 'line one\n', clock))).toBe(
      '{"metadata":{"site":"greenhouse-2","rack":4,"tags":["a","b"],"nested":{"on":true}},"data":"line one"}\n',
    );
  });

  it.each(['true', true])('timestamp %j adds ts first, in UTC with milliseconds', (timestamp) => {
    expect(text(run([{ optionName: 'ADDMETADATA', timestamp, metadata: 'device-9' }], 'x\n', clock))).toBe('{"ts":"2026-03-07T12:03:04.005Z","metadata":"device-9","data":"x"}\n');
  });

  it('ts follows the clock', () => {
    const moving = new ManualClock(Date.UTC(2026, 0, 1));
    const process = buildProcessors([{ optionName: 'ADDMETADATA', timestamp: 'true', metadata: null }], where, { clock: moving });
    const first = json(process(Buffer.from('a\n'))) as { ts: string };
    moving.advance(1_500);
    const second = json(process(Buffer.from('b\n'))) as { ts: string };
    expect(Date.parse(second.ts) - Date.parse(first.ts)).toBe(1_500);
  });

  it('PRETTYPRINT nests objects and keeps arrays on one line, as Jackson does', () => {
    expect(text(run([{ optionName: 'ADDMETADATA', metadata: { a: [1, { b: 2 }], e: [], o: {} }, jsonFormat: 'PRETTYPRINT' }], 'x\n', clock))).toBe(
      '{\n  "metadata" : {\n    "a" : [ 1, {\n      "b" : 2\n    } ],\n    "e" : [ ],\n    "o" : { }\n  },\n  "data" : "x"\n}\n',
    );
  });
});

describe('chaining', () => {
  it('runs the options in order', () => {
    const record = 'Jan  1 00:00:01 pi app[9]: first line\n    continued here\n';
    const options = [{ optionName: 'SINGLELINE' }, { optionName: 'LOGTOJSON', logFormat: 'SYSLOG' }, { optionName: 'ADDMETADATA', metadata: { site: 's1' } }];
    const outer = json(run(options, record)) as { metadata: unknown; data: string };
    expect(outer.metadata).toEqual({ site: 's1' });
    expect(JSON.parse(outer.data)).toEqual({ timestamp: 'Jan  1 00:00:01', hostname: 'pi', program: 'app', processid: '9', message: 'first linecontinued here' });
  });

  it('stops at the first failure and reports it', () => {
    const result = run([{ optionName: 'LOGTOJSON', logFormat: 'COMMONAPACHELOG' }, { optionName: 'ADDBRACKETS' }], 'not a log line\n');
    expect(isProcessFailure(result) && result.code).toBe('PARSE_FAILED');
    expect(isProcessFailure(result) && result.reason).toContain('COMMONAPACHELOG');
  });

  it('no options: records pass unchanged', () => {
    const data = Buffer.from([0xff, 0x00, 0x0a]);
    expect(buildProcessors([], where)(data)).toEqual(data);
  });
});

describe('binary and invalid UTF-8', () => {
  const invalid = Buffer.concat([Buffer.from('Jan  1 00:00:01 pi app: bad '), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00, 0x01]), Buffer.from('\n')]);
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + (i >> 3) * 31) % 256));
  const everyOption = [
    { optionName: 'SINGLELINE' },
    { optionName: 'ADDBRACKETS' },
    { optionName: 'CSVTOJSON', customFieldNames: ['a', 'b'] },
    { optionName: 'ADDMETADATA', metadata: {} },
    ...['COMMONAPACHELOG', 'COMBINEDAPACHELOG', 'APACHEERRORLOG', 'SYSLOG', 'RFC3339SYSLOG'].map((logFormat) => ({ optionName: 'LOGTOJSON', logFormat })),
  ];

  it('every option checked here is a registered one', () => {
    expect(new Set(everyOption.map((option) => option.optionName))).toEqual(new Set(optionNames));
  });

  it.each(everyOption)('$optionName $logFormat returns bytes or a failure, never throws', (option) => {
    for (const data of [invalid, random, Buffer.alloc(0)]) {
      const result = buildProcessors([option], where)(data);
      if (!isProcessFailure(result) && option.optionName !== 'SINGLELINE' && option.optionName !== 'ADDBRACKETS') {
        expect(() => JSON.parse(result.toString('utf8'))).not.toThrow();
      }
    }
  });

  it('JSON converters replace invalid bytes with U+FFFD, as Java\'s decoder does', () => {
    const output = json(run([{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG' }], invalid)) as { message: string };
    expect(output.message).toBe('bad ' + Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00, 0x01]).toString('utf8'));
    expect(output.message).toContain('\uFFFD');
  });

  it('SINGLELINE and ADDBRACKETS keep the bytes as they are', () => {
    const binary = Buffer.from([0x80, 0xff, 0x0a, 0x20, 0xfe, 0x00, 0xc3, 0x00]);
    expect(run([{ optionName: 'ADDBRACKETS' }], binary)).toEqual(Buffer.concat([Buffer.from('{'), binary, Buffer.from('}')]));
    // A trailing 0x00 is trimmed like a space (Java's trim() takes everything up to U+0020); an inner one stays.
    expect(run([{ optionName: 'SINGLELINE' }], binary)).toEqual(Buffer.from([0x80, 0xff, 0xfe, 0x00, 0xc3, 0x0a]));
  });
});

describe('config errors name the flow, the option index and the key', () => {
  const errors: Array<[string, unknown[], string]> = [
    ['an option that is not an object', [42], key('[0]')],
    ['no optionName', [{}], key('[0].optionName')],
    ['an unknown optionName', [{ optionName: 'SINGLELINE' }, { optionName: 'GZIP' }], key('[1].optionName')],
    ['optionName in the wrong case', [{ optionName: 'singleline' }], key('[0].optionName')],
    ['an unknown key', [{ optionName: 'SINGLELINE', parseOptions: ['NO_TRIM'] }], key('[0].parseOptions')],
    ['CSVTOJSON without customFieldNames', [{ optionName: 'SINGLELINE' }, { optionName: 'CSVTOJSON' }], key('[1].customFieldNames')],
    ['CSVTOJSON with no field names', [{ optionName: 'CSVTOJSON', customFieldNames: [] }], key('[0].customFieldNames')],
    ['CSVTOJSON with a repeated field name', [{ optionName: 'CSVTOJSON', customFieldNames: ['a', 'b', 'a'] }], key('[0].customFieldNames')],
    ['CSVTOJSON with a non-string field name', [{ optionName: 'CSVTOJSON', customFieldNames: ['a', 1] }], key('[0].customFieldNames')],
    ['CSVTOJSON with a regex delimiter', [{ optionName: 'CSVTOJSON', customFieldNames: ['a'], delimiter: '\\s+' }], key('[0].delimiter')],
    ['CSVTOJSON with an empty delimiter', [{ optionName: 'CSVTOJSON', customFieldNames: ['a'], delimiter: '' }], key('[0].delimiter')],
    ['CSVTOJSON with the quote as delimiter', [{ optionName: 'CSVTOJSON', customFieldNames: ['a'], delimiter: '"' }], key('[0].delimiter')],
    ['CSVTOJSON with a bad jsonFormat', [{ optionName: 'CSVTOJSON', customFieldNames: ['a'], jsonFormat: 'pretty' }], key('[0].jsonFormat')],
    ['LOGTOJSON without logFormat', [{ optionName: 'LOGTOJSON' }], key('[0].logFormat')],
    ['LOGTOJSON with an unknown logFormat', [{ optionName: 'LOGTOJSON', logFormat: 'NGINX' }], key('[0].logFormat')],
    ['LOGTOJSON with too few custom names', [{ optionName: 'LOGTOJSON', logFormat: 'COMMONAPACHELOG', customFieldNames: ['host'] }], key('[0].customFieldNames')],
    ['LOGTOJSON matchPattern without names', [{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', matchPattern: '(.*)' }], key('[0].customFieldNames')],
    ['LOGTOJSON matchPattern that does not compile', [{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', matchPattern: '(unclosed', customFieldNames: ['a'] }], key('[0].matchPattern')],
    ['LOGTOJSON names not matching the capture groups', [{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', matchPattern: '(a)(?:b)(c)', customFieldNames: ['a', 'b', 'c'] }], key('[0].customFieldNames')],
    ['ADDMETADATA without metadata', [{ optionName: 'ADDMETADATA', timestamp: 'true' }], key('[0].metadata')],
    ['ADDMETADATA with a timestamp that is not a boolean', [{ optionName: 'ADDMETADATA', metadata: {}, timestamp: 'yes' }], key('[0].timestamp')],
  ];

  it.each(errors)('%s', (_name, options, source) => {
    expect(configErrorSource(options)).toBe(source);
  });

  it('a capture group count that matches is accepted', () => {
    expect(() => buildProcessors([{ optionName: 'LOGTOJSON', logFormat: 'SYSLOG', matchPattern: '(a)(?:b)(c)', customFieldNames: ['a', 'c'] }], where)).not.toThrow();
  });
});
