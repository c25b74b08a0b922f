/**
 * kill -9 of the agent while lines are in flight (the one-shard stream throttles them, so the
 * agent falls behind and spools), then a restart with the same state dir: every line arrives,
 * from the checkpoints and the spool. Re-sent lines are bounded by the checkpoint: only
 * lines past the offset the agent had stored before the kill may arrive twice.
 */
import { appendFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FileCheckpoint } from '../../agent/sources/tail/index.js';
import { startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { allArrived, countArrivals, tallyDelivery } from '../helpers/delivery-tally.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { recordTexts, StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const streamName = 'agent-crash';
/** More than a shard takes in two seconds (1,000 records/s — Kinesis quota): still in flight at the kill. */
const burstLines = 3_000;

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  dir = await makeTempDir('riffle-agent-crash-');
  collector = await startCollector(join(dir.path, 'collector'));
  client = kinesisClient(collector.endpoint);
  await createActiveStream(client, streamName);
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  client?.destroy();
  await collector?.stop();
  await dir?.remove();
});

/** The offset the agent's checkpoint file holds for `path` (0 if none yet). */
async function checkpointedOffset(checkpointFile: string, path: string): Promise<number> {
  let stored: { flows?: Record<string, { files: FileCheckpoint[] }> };
  try {
    stored = JSON.parse(await readFile(checkpointFile, 'utf8')) as typeof stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const files = Object.values(stored.flows ?? {}).flatMap((flow) => flow.files);
  return files.find((file) => file.path === path)?.offset ?? 0;
}

/** Bytes in the spool's segment files (every flow's). */
async function spooledBytes(spoolDir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(spoolDir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile() && entry.name.endsWith('.spool')) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

it('delivers every line after kill -9 and a restart, re-sending only what was past the checkpoint', async () => {
  const logDir = join(dir.path, 'logs');
  const stateDir = join(dir.path, 'state');
  await mkdir(logDir);
  const logFile = join(logDir, 'app.log');
  const expected: string[] = [];
  const write = async (from: number, count: number) => {
    const lines = Array.from({ length: count }, (_, i) => `line ${from + i} before and after the crash\n`);
    expected.push(...lines);
    await appendFile(logFile, lines.join(''));
  };
  const configFile = await writeAgentConfig(join(dir.path, 'agent.json'), {
    'kinesis.endpoint': collector.endpoint,
    flows: [
      {
        filePattern: join(logDir, '*.log'),
        kinesisStream: streamName,
        initialPosition: 'START_OF_FILE',
        maxBufferAgeMillis: 1000,
        maxBufferSizeRecords: 100,
        retryInitialBackoffMillis: 50,
        retryMaxBackoffMillis: 500,
      },
    ],
  });
  const checkpointFile = join(stateDir, 'checkpoints');
  await write(0, 200);
  const first = await startAgent({ configFile, stateDir });
  agents.push(first);
  const reader = new StreamReader(client, streamName);
  await reader.waitForAll('the first lines', expected);
  // The checkpoint is written a few seconds after delivery; wait until it covers those lines.
  const firstBytes = expected.join('').length;
  await pollUntil('the checkpoint to cover the first lines', async () => (await checkpointedOffset(checkpointFile, logFile)) >= firstBytes, { intervalMs: 100 });

  await write(200, burstLines);
  // Kill once the spool holds batches on disk, so the restart must deliver from it too.
  await pollUntil('a spooled batch on disk', async () => (await spooledBytes(join(stateDir, 'spool'))) > 0, { intervalMs: 20 });
  const checkpointBeforeKill = await checkpointedOffset(checkpointFile, logFile);
  expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });
  await reader.readNew();
  expect(allArrived(expected, recordTexts(reader.records)), 'the kill came while lines were still undelivered').toBe(false);
  await write(200 + burstLines, 100);

  const second = await startAgent({ configFile, stateDir });
  agents.push(second);
  expect(Number((await second.waitForLog('spool_opened')).bytes), 'spooled bytes found at the restart').toBeGreaterThan(0);
  await reader.waitForAll(`all ${expected.length} lines`, expected);
  expect(await second.stop()).toEqual({ code: 0, signal: null });
  await reader.readNew();

  const tally = tallyDelivery(expected, recordTexts(reader.records));
  expect(tally.missing).toEqual([]);
  expect(tally.unexpected).toEqual([]);
  // Lines wholly before the checkpoint were delivered and are never sent again; a line past it
  // may come back twice: re-read from the file, and re-sent from the spool (whose delivery cursor
  // is written on a timer).
  let offset = 0;
  const beforeCheckpoint = expected.filter((line) => (offset += line.length) <= checkpointBeforeKill);
  const arrivals = countArrivals(recordTexts(reader.records));
  expect(beforeCheckpoint.filter((line) => arrivals.get(line) !== 1)).toEqual([]);
  expect(tally.duplicates).toBeLessThanOrEqual(2 * (expected.length - beforeCheckpoint.length));
});
