/**
 * The agent tails a log through every rotation style — rename + create (with late writes to the
 * renamed file, then its deletion), copytruncate, and a timestamped new file — while lines keep
 * coming, and ships them to the real collector: every line arrives exactly once, and the lines
 * of each file in the order they were written (a one-shard stream keeps arrival order).
 */
import { appendFile, copyFile, mkdir, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { tallyDelivery } from '../helpers/delivery-tally.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { recordTexts, StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const streamName = 'rotation';

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  dir = await makeTempDir('riffle-agent-rotation-');
  collector = await startCollector(join(dir.path, 'collector'));
  client = kinesisClient(collector.endpoint);
  await createActiveStream(client, streamName);
});

afterAll(async () => {
  await agent?.kill();
  client?.destroy();
  await collector?.stop();
  await dir?.remove();
});

/**
 * The lines of one physical file ("generation"), each naming its generation and a sequence
 * number that runs across all files, so arrival can be checked per file.
 */
function lines(generation: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${generation} ${from + i} ${'x'.repeat((from + i) % 17)}\n`);
}

it('ships every line exactly once and in order per file through rename, copytruncate, deletion and timestamped files', async () => {
  const logDir = join(dir.path, 'logs');
  await mkdir(logDir);
  const live = join(logDir, 'app.log');
  const written = new Map<string, string[]>();
  const write = async (path: string, generation: string, from: number, count: number) => {
    const batch = lines(generation, from, count);
    written.set(generation, [...(written.get(generation) ?? []), ...batch]);
    await appendFile(path, batch.join(''));
  };

  await write(live, 'a', 0, 20);
  const configFile = await writeAgentConfig(join(dir.path, 'agent.json'), {
    'kinesis.endpoint': collector.endpoint,
    flows: [{ filePattern: join(logDir, 'app*.log'), kinesisStream: streamName, initialPosition: 'START_OF_FILE', maxBufferAgeMillis: 1000, retryMaxBackoffMillis: 500 }],
  });
  agent = await startAgent({ configFile, stateDir: join(dir.path, 'state') });

  // The writer never waits for the agent: rotations land while lines are unread or in flight.
  await write(live, 'a', 20, 20);
  // rename + create; the old writer still has the renamed file open and adds its last lines.
  await rename(live, join(logDir, 'app.log.1'));
  await write(join(logDir, 'app.log.1'), 'a', 40, 10);
  await writeFile(live, '');
  await write(live, 'b', 50, 20);
  // The one wait for the agent: copytruncate must not move content the agent never saw out of
  // its pattern (logrotate runs long after a file appears; the copy's name does not match).
  await agent.waitForLog('tail_file_opened', (entry) => entry.path === live, 15_000, 2);
  await write(live, 'b', 70, 20);
  // copytruncate (logrotate's copy, then truncate; nothing is written in between).
  await copyFile(live, join(logDir, 'app.log.2'));
  await truncate(live, 0);
  await write(live, 'c', 90, 20);
  // A timestamped file that matches the pattern, next to the live one.
  const stamped = join(logDir, 'app-20261123T2030.log');
  await write(stamped, 'd', 110, 20);
  await write(live, 'c', 130, 20);
  await write(stamped, 'd', 150, 20);
  // Deletion of the renamed file: an open file is read to its end all the same.
  await unlink(join(logDir, 'app.log.1'));

  const expected = [...written.values()].flat();
  const reader = new StreamReader(client, streamName);
  await reader.waitForAll(`all ${expected.length} lines`, expected);

  // The agent saw both rotations for what they were (whether the copy was adopted depends on
  // how much it had read before the truncate, so that is not asserted).
  const events = new Set(agent.logs.map((entry) => entry.event));
  expect(['tail_file_rotated', 'tail_file_truncated'].filter((event) => !events.has(event))).toEqual([]);
  // SIGTERM: the agent stops cleanly; then anything it sent twice would be in the stream too.
  expect(await agent.stop()).toEqual({ code: 0, signal: null });
  await reader.readNew();
  const received = recordTexts(reader.records);
  expect(tallyDelivery(expected, received)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
  for (const [generation, sent] of written) {
    expect(
      received.filter((line) => line.startsWith(`${generation} `)),
      `lines of file ${generation} in the order written`,
    ).toEqual(sent);
  }
});
