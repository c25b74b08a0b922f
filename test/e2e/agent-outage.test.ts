/**
 * The collector goes away while the agent ships a log: the agent retries, then spools, the
 * lines keep coming; the collector comes back on the same port and data dir and every line
 * arrives. Duplicates are possible only for calls the collector stored but could not answer.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { tallyDelivery } from '../helpers/delivery-tally.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { recordTexts, StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const streamName = 'outage';
const maxBufferSizeRecords = 50;
const maxSendingThreads = 4;
/**
 * Pipeline.ts keeps 4 batches in memory and `maxSendingThreads` in flight before it spools;
 * this many lines make three times as many batches, so most of them must go to the spool.
 */
const linesWhileDown = 3 * (4 + maxSendingThreads) * maxBufferSizeRecords;

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('riffle-agent-outage-');
  collector = await startCollector(join(dir.path, 'collector'));
  const client = kinesisClient(collector.endpoint);
  await createActiveStream(client, streamName);
  client.destroy();
});

afterAll(async () => {
  await agent?.kill();
  await collector?.stop();
  await dir?.remove();
});

it('loses nothing while the collector is down: retries, spools, and delivers once it is back', async () => {
  const logDir = join(dir.path, 'logs');
  await mkdir(logDir);
  const logFile = join(logDir, 'app.log');
  const expected: string[] = [];
  const write = async (from: number, count: number) => {
    const lines = Array.from({ length: count }, (_, i) => `line ${from + i} of the outage test\n`);
    expected.push(...lines);
    await appendFile(logFile, lines.join(''));
  };
  const configFile = await writeAgentConfig(join(dir.path, 'agent.json'), {
    'kinesis.endpoint': collector.endpoint,
    maxSendingThreads,
    flows: [
      {
        filePattern: join(logDir, '*.log'),
        kinesisStream: streamName,
        initialPosition: 'START_OF_FILE',
        maxBufferAgeMillis: 1000,
        maxBufferSizeRecords,
        retryInitialBackoffMillis: 50,
        retryMaxBackoffMillis: 500,
      },
    ],
  });
  await write(0, 100);
  agent = await startAgent({ configFile, stateDir: join(dir.path, 'state') });
  const firstClient = kinesisClient(collector.endpoint);
  await new StreamReader(firstClient, streamName).waitForAll('the lines written before the outage', expected);
  firstClient.destroy();

  const { port } = collector;
  expect(await collector.stop()).toBe(0);
  await write(100, linesWhileDown);
  // Observable proof of "retries, then spools": the status counters (written every few seconds).
  await agent.waitForStatus('sends retried and batches spooled', (status) => status.flows[0]!.retries > 0 && status.flows[0]!.spoolBytes > 0);
  // Lines that come while the spool holds data go behind it.
  await write(100 + linesWhileDown, 200);

  collector = await startCollector(join(dir.path, 'collector'), ['--port', String(port)]);
  const client = kinesisClient(collector.endpoint);
  const after = new StreamReader(client, streamName);
  await after.waitForAll(`all ${expected.length} lines`, expected);
  expect(await agent.stop()).toEqual({ code: 0, signal: null });
  await after.readNew();
  client.destroy();

  const tally = tallyDelivery(expected, recordTexts(after.records));
  expect(tally.missing).toEqual([]);
  expect(tally.unexpected).toEqual([]);
  // A duplicate needs a PutRecords the collector stored but never answered: at most the calls in
  // flight when it stopped.
  expect(tally.duplicates).toBeLessThanOrEqual(maxSendingThreads * maxBufferSizeRecords);
});
