/**
 * `npm run bench:mqtt`: 100-byte QoS 1 messages from 10 publishers (mqtt.js, each with a window
 * of messages in flight), measured in the same run against
 *   - Riffle: the collector's embedded broker with a topic rule putting every message into a
 *     4-shard stream; a PUBACK means the record is fsync'd in the stream (acked end to end);
 *   - mosquitto (Debian) as a plain broker, in memory, with one QoS 1 subscriber (mosquitto_sub)
 *     receiving everything (its PUBACK means the broker has the message, nothing is written to disk).
 * Prints messages/s (first publish to last PUBACK, and for mosquitto to the subscriber's last
 * message) and PUBACK latency percentiles. Target (issue 6): Riffle ≥ 0.5 × mosquitto's rate.
 *
 * Options (environment): BENCH_MQTT_MESSAGES per publisher (default 5000), BENCH_MQTT_WINDOW
 * messages in flight per publisher (default 100).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { startCollector } from '../helpers/collector-process.js';
import { createActiveStream, kinesisClient } from '../helpers/kinesis-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { incomingRecords } from './agent-delivery-watch.js';
import { mosquittoSubBinary, startMosquitto } from '../helpers/mosquitto.js';
import { percentile } from './percentile.js';

const PUBLISHERS = 10;
const MESSAGE_BYTES = 100;
const perPublisher = Number(process.env.BENCH_MQTT_MESSAGES ?? 5000);
const window = Number(process.env.BENCH_MQTT_WINDOW ?? 100);
const WARMUP_PER_PUBLISHER = 200;
const STREAM = 'bench-mqtt';
const TARGET_RATIO = 0.5;

interface RunResult {
  messages: number;
  elapsedMs: number;
  latenciesMs: number[];
}

async function connectPublishers(url: string, tag: string): Promise<MqttClient[]> {
  return Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => mqtt.connectAsync(url, { clientId: `${tag}-pub-${i}`, reconnectPeriod: 0 })));
}

/** Each publisher keeps `window` QoS 1 messages in flight until it has sent `count`. */
async function publishAll(publishers: MqttClient[], count: number, topicOf: (publisher: number) => string): Promise<RunResult> {
  const latenciesMs: number[] = [];
  const payload = Buffer.alloc(MESSAGE_BYTES, 'x');
  const started = performance.now();
  await Promise.all(
    publishers.map(
      (client, p) =>
        new Promise<void>((resolve, reject) => {
          let sent = 0;
          let acked = 0;
          const sendOne = () => {
            sent++;
            const at = performance.now();
            client.publish(topicOf(p), payload, { qos: 1 }, (error) => {
              if (error) return reject(error);
              latenciesMs.push(performance.now() - at);
              acked++;
              if (acked === count) resolve();
              else if (sent < count) sendOne();
            });
          };
          for (let i = 0; i < Math.min(window, count); i++) sendOne();
        }),
    ),
  );
  return { messages: publishers.length * count, elapsedMs: performance.now() - started, latenciesMs };
}


async function benchRiffle(dir: string): Promise<RunResult> {
  const config = join(dir, 'collector.json');
  writeFileSync(config, JSON.stringify({ mqtt: { rules: [{ name: 'bench', topicFilter: 'bench/#', actions: [{ kinesis: { streamName: STREAM, partitionKey: '${topic(2)}' } }] }] } }));
  // Shard limits off: 4 shards × 1,000 records/s would cap the run, and the broker is what is measured.
  const collector = await startCollector(join(dir, 'riffle'), ['--config', config, '--shard-limits', 'off']);
  try {
    const kinesis = kinesisClient(collector.endpoint);
    await createActiveStream(kinesis, STREAM, 4);
    const url = `mqtt://127.0.0.1:${collector.mqttPort}`;
    const publishers = await connectPublishers(url, 'riffle');
    await publishAll(publishers, WARMUP_PER_PUBLISHER, (p) => `bench/warm-${p}`);
    const before = await incomingRecords(collector.endpoint, STREAM);
    const result = await publishAll(publishers, perPublisher, (p) => `bench/dev-${p}`);
    const stored = (await incomingRecords(collector.endpoint, STREAM)) - before;
    // Every PUBACK came after the record was stored, so the stream already holds them all.
    if (stored !== result.messages) throw new Error(`the stream holds ${stored} new records, ${result.messages} were acknowledged`);
    await Promise.all(publishers.map((client) => client.endAsync()));
    return result;
  } finally {
    await collector.stop();
  }
}

async function benchMosquitto(dir: string): Promise<RunResult> {
  const broker = await startMosquitto(dir);
  try {
    // The subscriber is Debian's mosquitto_sub (C) in its own process, so the Node process that
    // publishes carries no subscriber work; it exits after the warm-up and measured messages.
    const total = PUBLISHERS * (WARMUP_PER_PUBLISHER + perPublisher);
    const subscriber = spawn(mosquittoSubBinary, ['-h', '127.0.0.1', '-p', String(broker.port), '-i', 'bench-sub', '-q', '1', '-t', 'bench/#', '-C', String(total)], { stdio: 'ignore' });
    const subscriberDone = once(subscriber, 'exit').then(() => performance.now());
    await broker.waitForSubscription('bench-sub', 'bench/#', 10_000);
    const publishers = await connectPublishers(broker.url, 'mosquitto');
    await publishAll(publishers, WARMUP_PER_PUBLISHER, (p) => `bench/warm-${p}`);
    const started = performance.now();
    const result = await publishAll(publishers, perPublisher, (p) => `bench/dev-${p}`);
    const lastDeliveredAt = await subscriberDone;
    await Promise.all(publishers.map((client) => client.endAsync()));
    return { ...result, elapsedMs: Math.max(result.elapsedMs, lastDeliveredAt - started) };
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const dir = await makeTempDir('riffle-bench-mqtt-');
  try {
    const mosquitto = await benchMosquitto(dir.path);
    const riffle = await benchRiffle(dir.path);
    const rows = [
      ['broker', 'messages', 'msg/s', 'p50 ms', 'p99 ms', 'ack means'],
      ...(
        [
          ['mosquitto (plain broker, mosquitto_sub)', mosquitto, 'in broker memory'],
          ['Riffle (rule → 4-shard stream)', riffle, 'fsync\'d in the stream'],
        ] as const
      ).map(([label, run, meaning]) => {
        const sorted = [...run.latenciesMs].sort((a, b) => a - b);
        return [label, String(run.messages), (run.messages / (run.elapsedMs / 1000)).toFixed(0), percentile(sorted, 0.5).toFixed(1), percentile(sorted, 0.99).toFixed(1), meaning];
      }),
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    const lines = rows.map((row) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
    lines.splice(1, 0, `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
    const ratio = riffle.messages / riffle.elapsedMs / (mosquitto.messages / mosquitto.elapsedMs);
    process.stdout.write(
      `MQTT QoS 1, ${MESSAGE_BYTES}-byte messages, ${PUBLISHERS} publishers × ${perPublisher} (window ${window} in flight each), same run:\n\n` +
        `${lines.join('\n')}\n\nRiffle / mosquitto rate: ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}): ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}\n`,
    );
  } finally {
    await dir.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:mqtt failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
