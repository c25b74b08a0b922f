/**
 * The README's MQTT demo, end to end: `npm run simulate` (the built sensor simulator) publishes
 * readings from virtual devices into the real collector, a topic rule puts them into a stream, and
 * the SDK reads back realistic readings, one partition per device.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectRoot, startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;

beforeAll(async () => {
  dir = await makeTempDir('riffle-mqtt-simulator-');
  const config = join(dir.path, 'collector.json');
  writeFileSync(config, JSON.stringify({ mqtt: { rules: [{ name: 'telemetry', topicFilter: 'sensors/+/telemetry', actions: [{ kinesis: { streamName: 'telemetry', partitionKey: '${deviceId}' } }] }] } }));
  collector = await startCollector(join(dir.path, 'data'), ['--config', config]);
});
afterAll(async () => {
  await collector?.stop();
  await dir.remove();
});

it('simulated sensors publish readings that a rule puts into the stream', async () => {
  const client = kinesisClient(collector.endpoint);
  await createActiveStream(client, 'telemetry', 2);
  const { stdout } = await run(process.execPath, [join(projectRoot, 'dist/hardware/simulator/sensor-simulator.js'), '--url', `mqtt://127.0.0.1:${collector.mqttPort}`, '--devices', '3', '--count', '4', '--interval-ms', '50']);
  expect(stdout).toContain('done: 12 readings acknowledged');
  // Acknowledged at QoS 1 means stored: all 12 are readable now.
  const records = await new StreamReader(client, 'telemetry').readNew();
  expect(records).toHaveLength(12);
  expect(new Set(records.map((record) => record.partitionKey))).toEqual(new Set(['sim-001', 'sim-002', 'sim-003']));
  for (const record of records) {
    const reading = JSON.parse(record.data.toString()) as Record<string, number | string>;
    expect(reading.deviceId).toBe(record.partitionKey);
    expect(reading.temperature).toBeGreaterThan(5);
    expect(reading.temperature).toBeLessThan(35);
    expect(reading.humidity).toBeGreaterThanOrEqual(5);
    expect(reading.humidity).toBeLessThanOrEqual(95);
    expect(reading.pressure).toBeGreaterThanOrEqual(980);
    expect(reading.battery).toBeGreaterThan(0);
    expect(Date.parse(String(reading.ts))).not.toBeNaN();
  }
});
