/**
 * A full spool holds the line: with the collector down and a 1 MB spool (policy backpressure),
 * the agent fills the spool, then stops reading the file — its read offset stops short of the
 * file's end and stays there — and drops nothing; once the collector is back, every line arrives.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TailSourceStatus } from '../../agent/sources/tail/index.js';
import type { AgentStatus } from '../../agent/status.js';
import { startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { tallyDelivery } from '../helpers/delivery-tally.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { recordTexts, StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const streamName = 'backpressure';
const spoolMB = 1;
const maxBufferSizeRecords = 100;
/**
 * Random base64 lines keep ~3/4 of their size under zstd, so 4,000 lines of 1 KiB are ~3 MB in
 * spool frames: three times the spool, whatever the pipeline holds in memory besides.
 */
const lineCount = 4_000;
const lineBytes = 1024;

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('riffle-agent-backpressure-');
  // Shard limits off: the backlog drains as fast as the agent sends once the collector is back.
  collector = await startCollector(join(dir.path, 'collector'), ['--shard-limits', 'off']);
  const client = kinesisClient(collector.endpoint);
  await createActiveStream(client, streamName);
  client.destroy();
});

afterAll(async () => {
  await agent?.kill();
  await collector?.stop();
  await dir?.remove();
});

const tailOf = (status: AgentStatus) => status.flows[0]!.source as TailSourceStatus;

it('stops reading when the spool is full, drops nothing, and delivers everything once the collector is back', async () => {
  const logDir = join(dir.path, 'logs');
  await mkdir(logDir);
  const lines = Array.from({ length: lineCount }, (_, i) => `${i} ${randomBytes(lineBytes).toString('base64').slice(0, lineBytes - 8)}\n`);
  const logFile = join(logDir, 'app.log');
  await writeFile(logFile, lines.join(''));
  const fileBytes = lines.join('').length;

  const { port } = collector;
  expect(await collector.stop()).toBe(0);
  const configFile = await writeAgentConfig(join(dir.path, 'agent.json'), {
    'kinesis.endpoint': collector.endpoint,
    maxSendingThreads: 1,
    spool: { maxSizeMB: spoolMB },
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
  agent = await startAgent({ configFile, stateDir: join(dir.path, 'state') });

  const paused = await agent.waitForStatus('the file source paused by the full spool', (status) => tailOf(status).paused);
  const readOffset = tailOf(paused).files[0]!.readOffset;
  expect(readOffset).toBeLessThan(fileBytes);
  // The next status report: still paused, not one byte further, the spool within its cap.
  const later = await agent.waitForStatus('the next status report', (status) => status.writtenAtMs > paused.writtenAtMs);
  expect(tailOf(later).paused).toBe(true);
  expect(tailOf(later).files[0]!.readOffset).toBe(readOffset);
  expect(later.flows[0]!.spoolBytes).toBeGreaterThan(0);
  expect(later.flows[0]!.spoolBytes).toBeLessThanOrEqual(spoolMB * 1024 * 1024);
  expect(later.flows[0]!.recordsDropped).toBe(0);

  collector = await startCollector(join(dir.path, 'collector'), ['--port', String(port), '--shard-limits', 'off']);
  const client = kinesisClient(collector.endpoint);
  const reader = new StreamReader(client, streamName);
  await reader.waitForAll(`all ${lines.length} lines`, lines, 30_000);
  expect(await agent.stop()).toEqual({ code: 0, signal: null });
  await reader.readNew();
  client.destroy();

  const tally = tallyDelivery(lines, recordTexts(reader.records));
  expect(tally.missing).toEqual([]);
  expect(tally.unexpected).toEqual([]);
  // Nothing reached the collector before it stopped; only a call that timed out after the
  // collector stored it could come twice, and one is in flight at a time.
  expect(tally.duplicates).toBeLessThanOrEqual(maxBufferSizeRecords);
});
