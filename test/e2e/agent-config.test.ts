/**
 * The agent as an operator meets it: the Kinesis Agent's own sample agent.json runs unchanged
 * (bar paths, endpoint and stream names) and ships processed JSON; a bad config stops the start
 * with exit code 2 and names the file and the key; SIGTERM flushes what is buffered and exits 0;
 * SIGHUP reloads the config (a bad one is refused and the running config stays).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileCheckpoint } from '../../agent/sources/tail/index.js';
import { runAgent, startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { recordTexts, StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The access key of the Kinesis Agent's sample config; the collector accepts only it, so the
// agent must sign with the config's keys, not the environment's.
const sampleCredentials = { accessKeyId: 'ACCESSKEY', secretAccessKey: 'SECRETKEY' };

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  dir = await makeTempDir('riffle-agent-config-');
  const collectorConfig = join(dir.path, 'collector.json');
  await writeFile(collectorConfig, JSON.stringify({ accessKeys: [sampleCredentials] }));
  collector = await startCollector(join(dir.path, 'collector'), ['--config', collectorConfig]);
  client = kinesisClient(collector.endpoint, { credentials: sampleCredentials });
  for (const name of ['aws-kinesis-agent-test1', 'aws-kinesis-agent-test2', 'shutdown', 'reload-app', 'reload-other']) {
    await createActiveStream(client, name);
  }
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  client?.destroy();
  await collector?.stop();
  await dir?.remove();
});

/**
 * awslabs/amazon-kinesis-agent configuration/example/agent.json, with its paths moved into the
 * test's directory and its endpoint pointed at the collector; every other key as shipped.
 */
function kinesisAgentSample(base: string, endpoint: string): Record<string, unknown> {
  return {
    checkpointFile: join(base, 'aws-kinesis-agent-checkpoints', 'main.log'),
    'cloudwatch.emitMetrics': true,
    'cloudwatch.endpoint': 'https://monitoring.us-west-2.amazonaws.com',
    'kinesis.endpoint': endpoint,
    awsAccessKeyId: 'ACCESSKEY',
    awsSecretAccessKey: 'SECRETKEY',
    flows: [
      {
        filePattern: join(base, 'aws-kinesis-agent-test1.log*'),
        initialPosition: 'END_OF_FILE',
        kinesisStream: 'aws-kinesis-agent-test1',
        dataProcessingOptions: [{ optionName: 'CSVTOJSON', customFieldNames: ['field1', 'field2', 'field3'], delimiter: '\\t' }],
      },
      {
        filePattern: join(base, 'aws-kinesis-agent-test2.log*'),
        initialPosition: 'START_OF_FILE',
        kinesisStream: 'aws-kinesis-agent-test2',
        dataProcessingOptions: [{ optionName: 'LOGTOJSON', logFormat: 'COMMONAPACHELOG' }],
      },
    ],
  };
}

/** The Kinesis Agent's converters write compact JSON and end each record with a newline. */
const jsonRecord = (value: Record<string, unknown>) => `${JSON.stringify(value)}\n`;

describe("the Kinesis Agent's sample config", () => {
  it('starts as it is, ships the processed JSON, and keeps its checkpoints where the config says', async () => {
    const base = join(dir.path, 'sample');
    await mkdir(base);
    const csvFile = join(base, 'aws-kinesis-agent-test1.log');
    const accessLog = join(base, 'aws-kinesis-agent-test2.log');
    // END_OF_FILE: what test1 holds before the agent starts is not sent; START_OF_FILE: test2's is.
    await writeFile(csvFile, 'old\tline\tskipped\n');
    // The Common Log Format example of the Kinesis Agent's documentation, then one with a user.
    await writeFile(
      accessLog,
      '64.242.88.10 - - [07/Mar/2004:16:10:02 -0800] "GET /mailman/listinfo/hsdivision HTTP/1.1" 200 6291\n' +
        '192.0.2.7 - alice [23/Nov/2026:20:30:00 +0000] "POST /api/readings HTTP/1.1" 201 -\n',
    );
    const config = kinesisAgentSample(base, collector.endpoint);
    const configFile = await writeAgentConfig(join(base, 'agent.json'), config);
    const agent = await startAgent({ configFile, stateDir: join(base, 'state') });
    agents.push(agent);
    const ignored = await agent.waitForLog('config_keys_ignored');
    expect(ignored.keys).toEqual(expect.arrayContaining(['cloudwatch.emitMetrics', 'cloudwatch.endpoint']));

    await agent.waitForLog('tail_file_opened', (entry) => entry.path === csvFile);
    await appendFile(csvFile, 'a\tb\tc\n2026-11-23T20:30:00Z\tsensor-7\t21.5\n');

    const expectedCsv = [jsonRecord({ field1: 'a', field2: 'b', field3: 'c' }), jsonRecord({ field1: '2026-11-23T20:30:00Z', field2: 'sensor-7', field3: '21.5' })];
    const expectedAccess = [
      // The documented "after conversion" of the example line: dashes become null.
      jsonRecord({
        host: '64.242.88.10',
        ident: null,
        authuser: null,
        datetime: '07/Mar/2004:16:10:02 -0800',
        request: 'GET /mailman/listinfo/hsdivision HTTP/1.1',
        response: '200',
        bytes: '6291',
      }),
      jsonRecord({ host: '192.0.2.7', ident: null, authuser: 'alice', datetime: '23/Nov/2026:20:30:00 +0000', request: 'POST /api/readings HTTP/1.1', response: '201', bytes: null }),
    ];
    // The sample keeps the default buffer age (60 s): once every line is read, SIGTERM sends them.
    await agent.waitForStatus('every line read', (status) => status.flows.map((flow) => flow.recordsIn).join() === `${expectedCsv.length},${expectedAccess.length}`);
    expect(await agent.stop()).toEqual({ code: 0, signal: null });
    const csv = new StreamReader(client, 'aws-kinesis-agent-test1');
    const access = new StreamReader(client, 'aws-kinesis-agent-test2');
    await csv.readNew();
    await access.readNew();
    expect(recordTexts(csv.records)).toEqual(expectedCsv);
    expect(recordTexts(access.records)).toEqual(expectedAccess);
    // Stopped cleanly: the checkpoint file named by the config covers both files to their end.
    const checkpoints = JSON.parse(await readFile(config.checkpointFile as string, 'utf8')) as { flows: Record<string, { files: FileCheckpoint[] }> };
    const offsets = Object.values(checkpoints.flows).flatMap((flow) => flow.files.map((file) => [file.path, file.offset]));
    expect(Object.fromEntries(offsets)).toEqual({
      [csvFile]: (await readFile(csvFile)).length,
      [accessLog]: (await readFile(accessLog)).length,
    });
  });

  // The Kinesis Agent's packaged default config (configuration/release/aws-kinesis-agent.json)
  // ships `"kinesis.endpoint": ""` and `"firehose.endpoint": ""`, meaning "the default endpoint".
  it('accepts the empty endpoints of the packaged default config', async () => {
    const base = join(dir.path, 'release-defaults');
    await mkdir(base);
    const configFile = await writeAgentConfig(join(base, 'agent.json'), {
      'cloudwatch.emitMetrics': true,
      'kinesis.endpoint': collector.endpoint,
      'firehose.endpoint': '',
      flows: [{ filePattern: join(base, 'app.log*'), kinesisStream: 'aws-kinesis-agent-test1', partitionKeyOption: 'RANDOM' }],
    });
    const agent = await startAgent({ configFile, stateDir: join(base, 'state') });
    agents.push(agent);
    expect(await agent.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('config errors', () => {
  const flow = (base: string) => ({ filePattern: join(base, '*.log'), kinesisStream: 'shutdown' });
  const cases: Array<{ name: string; key: string; config: (base: string) => Record<string, unknown> }> = [
    { name: 'an unknown key (a typo)', key: 'kinesis.endpont', config: (base) => ({ 'kinesis.endpont': 'http://127.0.0.1:1', flows: [flow(base)] }) },
    { name: 'a bad value', key: 'initialPosition', config: (base) => ({ flows: [{ ...flow(base), initialPosition: 'MIDDLE_OF_FILE' }] }) },
    {
      name: 'a bad processing option',
      key: 'logFormat',
      config: (base) => ({ flows: [{ ...flow(base), dataProcessingOptions: [{ optionName: 'LOGTOJSON', logFormat: 'NOT_A_FORMAT' }] }] }),
    },
    { name: 'an MQTT flow without a broker', key: 'mqtt', config: () => ({ flows: [{ mqtt: { topics: ['sensors/#'] }, kinesisStream: 'shutdown' }] }) },
  ];

  it.each(cases)('$name: exit code 2, the file and the key on stderr, nothing started', async ({ key, config }) => {
    const base = join(dir.path, `bad-${key}`);
    await mkdir(base);
    const configFile = await writeAgentConfig(join(base, 'agent.json'), config(base));
    const stateDir = join(base, 'state');
    const result = await runAgent(['--config', configFile, '--state-dir', stateDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(configFile);
    expect(result.stderr).toContain(key);
    expect(existsSync(stateDir), 'no state dir: nothing half-started').toBe(false);
  });

  it('names the file when it is not JSON', async () => {
    const configFile = join(dir.path, 'broken.json');
    await writeFile(configFile, '{ "flows": [ ');
    const result = await runAgent(['--config', configFile, '--state-dir', join(dir.path, 'broken-state')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(configFile);
  });
});

it('SIGTERM sends what is still buffered, then exits 0', async () => {
  const base = join(dir.path, 'shutdown');
  await mkdir(base);
  const logFile = join(base, 'app.log');
  const lines = Array.from({ length: 25 }, (_, i) => `last words ${i}\n`);
  await writeFile(logFile, lines.join(''));
  const configFile = await writeAgentConfig(join(base, 'agent.json'), {
    'kinesis.endpoint': collector.endpoint,
    awsAccessKeyId: sampleCredentials.accessKeyId,
    awsSecretAccessKey: sampleCredentials.secretAccessKey,
    // The Kinesis Agent's default buffer age, 60 s: only the shutdown can send these lines in time.
    flows: [{ filePattern: join(base, '*.log'), kinesisStream: 'shutdown', initialPosition: 'START_OF_FILE', maxBufferAgeMillis: 60_000 }],
  });
  const agent = await startAgent({ configFile, stateDir: join(base, 'state') });
  agents.push(agent);
  await agent.waitForStatus('every line read', (status) => status.flows[0]!.recordsIn === lines.length);
  const reader = new StreamReader(client, 'shutdown');
  expect(await reader.readNew(), 'nothing sent before the shutdown').toEqual([]);

  expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  await reader.readNew();
  expect(recordTexts(reader.records)).toEqual(lines);
});

it('SIGHUP reloads the config: a bad one is refused, a good one adds a flow, the kept flow neither repeats nor skips', async () => {
  const base = join(dir.path, 'reload');
  await mkdir(base);
  const logFile = join(base, 'app.log');
  const otherFile = join(base, 'other.txt');
  const appFlow = { filePattern: join(base, '*.log'), kinesisStream: 'reload-app', initialPosition: 'START_OF_FILE', maxBufferAgeMillis: 1000 };
  const config = (flows: object[]) => ({
    'kinesis.endpoint': collector.endpoint,
    awsAccessKeyId: sampleCredentials.accessKeyId,
    awsSecretAccessKey: sampleCredentials.secretAccessKey,
    checkpointFile: join(base, 'checkpoints.json'),
    flows,
  });
  const configFile = await writeAgentConfig(join(base, 'agent.json'), config([appFlow]));
  await writeFile(logFile, 'before 1\nbefore 2\n');
  await writeFile(otherFile, 'other 1\n');
  const agent = await startAgent({ configFile, stateDir: join(base, 'state') });
  agents.push(agent);
  const appStream = new StreamReader(client, 'reload-app');
  await appStream.waitFor('the first lines', (records) => records.length === 2);

  await writeFile(configFile, '{ "flows": ');
  agent.child.kill('SIGHUP');
  await agent.waitForLog('reload_refused');
  await appendFile(logFile, 'still before\n');
  await appStream.waitFor('a line under the old config', (records) => records.length === 3);

  const otherFlow = { filePattern: join(base, '*.txt'), kinesisStream: 'reload-other', initialPosition: 'START_OF_FILE', maxBufferAgeMillis: 1000 };
  await writeAgentConfig(configFile, config([appFlow, otherFlow]));
  agent.child.kill('SIGHUP');
  await agent.waitForLog('started', undefined, undefined, 2);
  await appendFile(logFile, 'after 1\n');
  const otherStream = new StreamReader(client, 'reload-other');
  await otherStream.waitFor('the new flow', (records) => records.length === 1);
  await appStream.waitFor('the line written after the reload', (records) => records.length === 4);
  // The kept flow resumed from its checkpoint: nothing read twice, nothing skipped.
  expect(recordTexts(appStream.records)).toEqual(['before 1\n', 'before 2\n', 'still before\n', 'after 1\n']);
  expect(recordTexts(otherStream.records)).toEqual(['other 1\n']);
  expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
});
