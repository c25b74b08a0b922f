/**
 * `npm run bench:agent` — the device agent end to end on this machine, against the real
 * collector (a 4-shard stream, per-shard limits off), in one run:
 *
 * 1. File throughput. A log of fixed-length lines (agent-log-file.ts) is written before the
 *    agent starts; the agent (initialPosition START_OF_FILE) tails it, batches, zstd-compresses
 *    and ships it. Timed from spawning the agent to the collector holding every line
 *    (agent-delivery-watch.ts), so the figure includes the agent's start-up. Beside it:
 *    `zstd -3 -T1` over the same file, timed, as the single-core read-and-compress ceiling; the
 *    agent's CPU seconds per GB and peak RSS (/proc).
 * 2. Idle CPU: the caught-up agent over a window with no new data.
 * 3. MQTT QoS 1: Debian's mosquitto as the device-local broker, an agent with an MQTT flow
 *    (QoS 1, persistent session). Once it has subscribed, the agent is stopped (SIGSTOP) and
 *    `mosquitto_pub -l -q 1` publishes N messages, which the broker queues for the session; then
 *    the agent continues (SIGCONT) and messages/s is timed from there to the collector holding
 *    all of them. So the figure is broker → collector, the agent's own rate: on a 2-core box a
 *    publisher running at the same time would take the CPU the agent is measured on (the
 *    publishing rate is shown beside it).
 * Then correctness: the agent's status (records sent = lines, none failed, the file's checkpoint
 * at its end), the collector's IncomingRecords exactly equal to what was sent (no duplicates),
 * and — unless `--verify count` — every shard read back with GetRecords and compared with the
 * generated log by count, bytes and checksum (shard-tally.ts).
 *
 * The machine is small and shared (2 cores): the agent, the collector, the broker and the
 * publisher share it, as they would share a gateway. The CPU columns show who used it, and a
 * NOISY line says when other processes took enough to distort the figures.
 *
 * Options (flag, or the BENCH_* environment variable):
 *   --file-mb N          size of the generated log in MB, 10^6 bytes (BENCH_FILE_MB, default 500: a phase of
 *                        10–15 s for today's agent, long enough that its start-up is a small part)
 *   --line-bytes N       bytes per line, newline included (BENCH_LINE_BYTES, default 200)
 *   --idle-s N           idle window in seconds (BENCH_IDLE_S, default 10)
 *   --mqtt-messages N    messages published in the MQTT phase (BENCH_MQTT_MESSAGES, default 100000)
 *   --message-bytes N    bytes per MQTT message (BENCH_MESSAGE_BYTES, default 100)
 *   --shards N           shards per stream (BENCH_SHARDS, default 4)
 *   --phases LIST        file,mqtt (BENCH_PHASES, default both)
 *   --verify full|count  read every record back, or only count what the collector took (BENCH_VERIFY, default full)
 *   --phase-limit-s N    a phase not done by then is cut and measured on what arrived; its
 *                        correctness is then not checked (BENCH_PHASE_LIMIT_S, default 45)
 *   --profile DIR        run the agents under `--cpu-prof` into DIR and print their hot spots (BENCH_PROFILE);
 *                        the sampler costs CPU of its own, so idle CPU reads high under it
 *   --node-flags=…       node flags for the agents, space-separated, e.g. --node-flags="--max-semi-space-size=1"
 *                        (with `=`, as the value starts with a dash; BENCH_NODE_FLAGS; default: the flags
 *                        of hardware/systemd/riffle-agent.service's ExecStart, as devices run it)
 *   --agent-env=…        environment for the agents, space-separated NAME=VALUE pairs (BENCH_AGENT_ENV;
 *                        default: the unit's Environment= lines, as devices run it; "" for none)
 *
 * Exits 1 when a line or message is lost, duplicated or altered, or a phase fails; missed
 * targets are FAIL rows but do not change the exit code.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import type { FlowStatus } from '../../agent/pipeline.js';
import type { AgentStatus } from '../../agent/status.js';
import { projectRoot, startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { unitEnvironment, unitNodeFlags } from '../helpers/systemd-unit.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { incomingRecords, streamMetric, waitForIncomingRecords } from './agent-delivery-watch.js';
import { writeBenchLog, MIN_LINE_BYTES } from './agent-log-file.js';
import { benchSettings } from './bench-options.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { MAX_MESSAGES_PER_PUBLISHER, publishLines } from './agent-mosquitto.js';
import { measureMemoryFloor } from './agent-memory-floor.js';
import { AnonymousMemoryPeak, residentMemory, startBenchAgent, type BenchAgent, type BenchAgentOptions } from './agent-process.js';
import { reportAgentBench, type AgentBenchResult, type Delivery } from './agent-report.js';
import { formatProfileSummary, summarizeCpuProfile } from './cpu-profile-summary.js';
import { cpuBetween, snapshotCpu, type CpuUsage } from './cpu-sampling.js';
import { createKeepAliveAgent, KinesisHttpClient } from './kinesis-http-client.js';
import { readBackAllShards } from './read-back.js';
import type { ShardTally } from './shard-tally.js';
import { createBenchStream } from './stream-setup.js';

type Phase = 'file' | 'mqtt';
/** A flow as status.json shows it: the pipeline's counters and its source's own status. */
type AgentFlowStatus = AgentStatus['flows'][number];
const phases: readonly Phase[] = ['file', 'mqtt'];

interface BenchOptions {
  fileBytes: number;
  lineBytes: number;
  idleMs: number;
  mqttMessages: number;
  messageBytes: number;
  shards: number;
  phases: Phase[];
  verify: 'full' | 'count';
  /** A phase that has not delivered everything by then is measured on what it delivered. */
  phaseLimitMs: number;
  profileDir?: string;
  nodeFlags: string[];
  agentEnv: Record<string, string>;
}

const FILE_STREAM = 'bench-agent-file';
const MQTT_STREAM = 'bench-agent-mqtt';
const MQTT_TOPIC = 'bench/gw-07/readings';
const MQTT_TOPIC_FILTER = 'bench/+/readings';
const MQTT_CLIENT_ID = 'riffle-bench-agent';
/** The publisher's QoS 1 window: enough that one round trip per message never limits it. */
const PUBLISHER_MAX_INFLIGHT = 1000;
/** Each flow's shortest flush age the config allows (agent/config.ts): batches leave full, or at least this often. */
const MAX_BUFFER_AGE_MILLIS = 1000;
/** Room for a reading's JSON fields (writeSensorReadings) before its padding. */
const MIN_MESSAGE_BYTES = 72;
const HOT_SPOTS_SHOWN = 20;
const SUBSCRIBE_DEADLINE_MS = 15_000;
/** The agent writes its status every 5 s (agent/main.ts): two of those and a margin. */
const STATUS_TIMEOUT_MS = 12_000;

function parseEnvironment(pairs: string): Record<string, string> {
  const entries = pairs.split(' ').filter((pair) => pair !== '').map((pair) => {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`--agent-env: ${JSON.stringify(pair)} is not NAME=VALUE`);
    return [pair.slice(0, equals), pair.slice(equals + 1)] as const;
  });
  return Object.fromEntries(entries);
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'file-mb': { type: 'string' },
      'line-bytes': { type: 'string' },
      'idle-s': { type: 'string' },
      'mqtt-messages': { type: 'string' },
      'message-bytes': { type: 'string' },
      shards: { type: 'string' },
      phases: { type: 'string' },
      verify: { type: 'string' },
      profile: { type: 'string' },
      'node-flags': { type: 'string' },
      'agent-env': { type: 'string' },
      'phase-limit-s': { type: 'string' },
    },
    strict: true,
  });
  const { setting, positive, whole, listOf } = benchSettings(values, env);
  const chosen = listOf('phases', phases);
  const verify = setting('verify') ?? 'full';
  if (verify !== 'full' && verify !== 'count') throw new Error(`--verify must be full or count, got ${verify}`);
  const lineBytes = whole('line-bytes', 200);
  if (lineBytes < MIN_LINE_BYTES) throw new Error(`--line-bytes must be at least ${MIN_LINE_BYTES}`);
  const messageBytes = whole('message-bytes', 100);
  if (messageBytes < MIN_MESSAGE_BYTES) throw new Error(`--message-bytes must be at least ${MIN_MESSAGE_BYTES}`);
  const profile = setting('profile');
  return {
    fileBytes: Math.round(positive('file-mb', 500) * 1e6),
    lineBytes,
    idleMs: positive('idle-s', 10) * 1000,
    mqttMessages: whole('mqtt-messages', 100_000),
    messageBytes,
    shards: whole('shards', 4),
    phases: chosen,
    verify,
    phaseLimitMs: positive('phase-limit-s', 45) * 1000,
    ...(profile !== undefined ? { profileDir: resolve(profile) } : {}),
    nodeFlags: setting('node-flags')?.split(' ').filter((flag) => flag !== '') ?? unitNodeFlags('riffle-agent'),
    agentEnv: parseEnvironment(setting('agent-env') ?? unitEnvironment('riffle-agent')),
  };
}

/** The agent.json both phases share: the Kinesis Agent's keys, pointed at the bench collector. */
function agentConfig(collector: CollectorProcess, stateDir: string, extra: object): object {
  return {
    'kinesis.endpoint': collector.endpoint,
    'kinesis.region': 'us-east-1',
    checkpointFile: join(stateDir, 'checkpoints.json'),
    compression: 'zstd',
    // A phase cut at its limit stops an agent that is still busy: no need to wait 10 s (the default) for it.
    shutdownTimeoutMillis: 3000,
    ...extra,
  };
}

interface Context {
  options: BenchOptions;
  root: string;
  collector: CollectorProcess;
  client: KinesisHttpClient;
  result: AgentBenchResult;
  /** The windows each agent's profile is cut to, by agent pid. */
  profiled: Array<{ pid: number; label: string; windows: CpuUsage[] }>;
}

const benchStartedMs = performance.now();

function progress(text: string): void {
  process.stdout.write(`[${((performance.now() - benchStartedMs) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
}

async function timeZstdCeiling(file: string): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  try {
    const startedMs = performance.now();
    const child = spawn('zstd', ['-3', '-T1', '-q', '-c', file], { stdio: ['ignore', devNull, 'inherit'] });
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`zstd exited with ${String(code)}`);
    return performance.now() - startedMs;
  } finally {
    closeSync(devNull);
  }
}

async function runFilePhase(context: Context): Promise<void> {
  const { options, root, collector, client, result } = context;
  const logDir = join(root, 'logs');
  await mkdir(logDir);
  progress(`file: writing a ${options.fileBytes / 1e6} MB log of ${options.lineBytes}-byte lines …`);
  const log = await writeBenchLog(join(logDir, 'app.log'), options.fileBytes, options.lineBytes);
  progress('file: zstd -3 -T1 over it, the single-core ceiling …');
  const zstdCeilingMs = await timeZstdCeiling(log.path);
  const shardIds = await createBenchStream(client, FILE_STREAM, options.shards);

  const stateDir = join(root, 'agent-file');
  await mkdir(stateDir);
  const config = agentConfig(collector, stateDir, {
    flows: [{ filePattern: join(logDir, '*.log'), kinesisStream: FILE_STREAM, initialPosition: 'START_OF_FILE', maxBufferAgeMillis: MAX_BUFFER_AGE_MILLIS }],
  });
  progress(`file: agent shipping ${log.lines} lines (at most ${options.phaseLimitMs / 1000} s) …`);
  // The collector's CPU, and the machine's, over the phase.
  const collectorAtStart = snapshotCpu(collector.child.pid!);
  const startedMs = performance.now();
  const agent = await startBenchAgent(config, stateDir, agentOptions(options));
  try {
    const agentAtStart = snapshotCpu(agent.pid);
    const anonymousPeak = new AnonymousMemoryPeak(agent.pid);
    const arrival = await waitForIncomingRecords(collector.endpoint, FILE_STREAM, log.lines, {
      deadlineMs: startedMs + options.phaseLimitMs,
      describeStall: () => describeAgent(agent),
      onPoll: () => anonymousPeak.sample(),
    });
    const agentDone = snapshotCpu(agent.pid);
    const collectorDone = snapshotCpu(collector.child.pid!);
    const putCalls = await streamMetric(collector.endpoint, FILE_STREAM, 'PutRecords.Success');
    let idle: CpuUsage | undefined;
    let flow: AgentFlowStatus | undefined;
    if (arrival.complete) {
      progress(`file: caught up in ${((arrival.atMs - startedMs) / 1000).toFixed(1)} s; ${options.idleMs / 1000} s idle …`);
      const idleStart = snapshotCpu(agent.pid);
      // The idle window is the measurement itself: nothing is being waited for.
      await new Promise((resolveIdle) => setTimeout(resolveIdle, options.idleMs));
      idle = cpuBetween(idleStart, snapshotCpu(agent.pid));
      context.profiled.push({ pid: agent.pid, label: 'file flow, idle', windows: [idle] });
      const status = await agent.awaitStatus((candidate) => candidate.flows[0]?.recordsSent === log.lines, STATUS_TIMEOUT_MS);
      flow = status?.flows[0];
      checkFlowStatus(result, 'file flow', flow, log.lines);
      const file = (flow?.source as { files?: Array<{ path: string; checkpointOffset: number }> } | undefined)?.files?.find((f) => f.path === log.path);
      if (file?.checkpointOffset !== log.bytes) result.problems.push(`file flow: checkpoint offset ${String(file?.checkpointOffset)}, file size ${log.bytes}`);
    } else {
      if (arrival.stalled !== undefined) result.problems.push(`file flow stalled: ${arrival.stalled}`);
      flow = (await agent.awaitStatus(() => true, STATUS_TIMEOUT_MS))?.flows[0];
      result.unchecked.push(`file phase cut after ${((arrival.atMs - startedMs) / 1000).toFixed(0)} s with ${arrival.records} of ${log.lines} lines stored: figures are from what was stored, correctness and idle CPU not checked`);
    }
    const cpu = cpuBetween(collectorAtStart, collectorDone);
    result.file = {
      lines: log.lines,
      deliveredLines: Math.min(arrival.records, log.lines),
      lineBytes: options.lineBytes,
      elapsedMs: arrival.atMs - startedMs,
      zstdCeilingMs,
      zstdFileBytes: log.bytes,
      // Since spawn: start-up is part of what shipping the file costs.
      agentCpuMs: agentDone.targetMs ?? Number.NaN,
      peakRssBytes: residentMemory(agent.pid)?.peakBytes ?? Number.NaN,
      peakAnonymousBytes: anonymousPeak.bytes,
      memoryFloor: await measureMemoryFloor(log.path, options.nodeFlags, options.agentEnv),
      cpu,
      ...(cpu.targetMs !== undefined ? { collectorCpuMs: cpu.targetMs } : {}),
      ...(idle !== undefined ? { idle } : {}),
      delivery: deliveryOf(putCalls, flow),
    };
    context.profiled.push({ pid: agent.pid, label: 'file flow, shipping', windows: [cpuBetween(agentAtStart, agentDone)] });
    progress('file: stopping the agent (SIGTERM) …');
    await agent.stop();
    if (arrival.complete) await verifyStream(context, FILE_STREAM, shardIds, log.lines, 'lines', log.expected);
  } finally {
    agent.kill();
  }
}

async function runMqttPhase(context: Context): Promise<void> {
  const { options, root, collector, client, result } = context;
  const brokerDir = join(root, 'mosquitto');
  await mkdir(brokerDir);
  // The agent is held still (SIGSTOP) while every message is published, so the broker queues them all.
  const broker = await startMosquitto(brokerDir, { maxQueuedMessages: 1_000_000 });
  try {
    const { files: messageFiles, expected } = await writeSensorReadings(brokerDir, options.mqttMessages, options.messageBytes);
    const shardIds = await createBenchStream(client, MQTT_STREAM, options.shards);
    const stateDir = join(root, 'agent-mqtt');
    await mkdir(stateDir);
    const config = agentConfig(collector, stateDir, {
      mqtt: { url: broker.url, clientId: MQTT_CLIENT_ID },
      flows: [{ mqtt: { topics: [MQTT_TOPIC_FILTER], qos: 1 }, kinesisStream: MQTT_STREAM, maxBufferAgeMillis: MAX_BUFFER_AGE_MILLIS }],
    });
    const agent = await startBenchAgent(config, stateDir, agentOptions(options));
    try {
      await broker.waitForSubscription(MQTT_CLIENT_ID, MQTT_TOPIC_FILTER, SUBSCRIBE_DEADLINE_MS);
      progress(`mqtt: agent stopped (SIGSTOP); publishing ${options.mqttMessages} QoS 1 messages of ${options.messageBytes} bytes into the broker …`);
      agent.pause();
      const publishStartedMs = performance.now();
      await publishLines({ port: broker.port, topic: MQTT_TOPIC, messageFiles, qos: 1, maxInflight: PUBLISHER_MAX_INFLIGHT });
      const publishElapsedMs = performance.now() - publishStartedMs;
      progress(`mqtt: agent continued (SIGCONT), draining the broker (at most ${options.phaseLimitMs / 1000} s) …`);
      const agentAtStart = snapshotCpu(agent.pid);
      const collectorAtStart = snapshotCpu(collector.child.pid!);
      const brokerAtStart = snapshotCpu(broker.pid);
      const anonymousPeak = new AnonymousMemoryPeak(agent.pid);
      const startedMs = performance.now();
      agent.resume();
      const arrival = await waitForIncomingRecords(collector.endpoint, MQTT_STREAM, options.mqttMessages, {
        deadlineMs: startedMs + options.phaseLimitMs,
        describeStall: () => describeAgent(agent),
        onPoll: () => anonymousPeak.sample(),
      });
      const agentDone = snapshotCpu(agent.pid);
      const collectorDone = snapshotCpu(collector.child.pid!);
      const brokerDone = snapshotCpu(broker.pid);
      const putCalls = await streamMetric(collector.endpoint, MQTT_STREAM, 'PutRecords.Success');
      let flow: AgentFlowStatus | undefined;
      if (arrival.complete) {
        const acknowledged = (status: AgentStatus) => (status.flows[0]?.source as { acknowledged?: number } | undefined)?.acknowledged;
        // A message is acknowledged once spooled, possibly before it is sent: both counts must arrive.
        const status = await agent.awaitStatus(
          (candidate) => acknowledged(candidate) === options.mqttMessages && candidate.flows[0]?.recordsSent === options.mqttMessages,
          STATUS_TIMEOUT_MS,
        );
        flow = status?.flows[0];
        checkFlowStatus(result, 'MQTT flow', flow, options.mqttMessages);
        const pubacks = status === undefined ? undefined : acknowledged(status);
        if (pubacks !== options.mqttMessages) result.problems.push(`MQTT flow: ${String(pubacks)} PUBACKs sent for ${options.mqttMessages} messages`);
      } else {
        if (arrival.stalled !== undefined) result.problems.push(`MQTT flow stalled: ${arrival.stalled}`);
        flow = (await agent.awaitStatus(() => true, STATUS_TIMEOUT_MS))?.flows[0];
        result.unchecked.push(`MQTT phase cut after ${((arrival.atMs - startedMs) / 1000).toFixed(0)} s with ${arrival.records} of ${options.mqttMessages} messages stored: figures are from what was stored, correctness not checked`);
      }
      const cpu = cpuBetween(collectorAtStart, collectorDone);
      result.mqtt = {
        messages: options.mqttMessages,
        deliveredMessages: Math.min(arrival.records, options.mqttMessages),
        messageBytes: options.messageBytes,
        elapsedMs: arrival.atMs - startedMs,
        publishElapsedMs,
        publishers: messageFiles.length,
        agentCpuMs: agentDone.targetMs! - agentAtStart.targetMs!,
        peakRssBytes: residentMemory(agent.pid)?.peakBytes ?? Number.NaN,
        peakAnonymousBytes: anonymousPeak.bytes,
        cpu,
        ...(cpu.targetMs !== undefined ? { collectorCpuMs: cpu.targetMs } : {}),
        ...(brokerAtStart.targetMs !== undefined && brokerDone.targetMs !== undefined ? { brokerCpuMs: brokerDone.targetMs - brokerAtStart.targetMs } : {}),
        delivery: deliveryOf(putCalls, flow),
      };
      context.profiled.push({ pid: agent.pid, label: 'MQTT flow, draining the broker', windows: [cpuBetween(agentAtStart, agentDone)] });
      progress('mqtt: stopping the agent (SIGTERM) …');
      await agent.stop();
      if (arrival.complete) await verifyStream(context, MQTT_STREAM, shardIds, options.mqttMessages, 'messages', expected);
    } finally {
      agent.kill();
    }
  } finally {
    await broker.stop();
  }
}

/**
 * `count` JSON readings, each exactly `bytes` long, one per line (mosquitto_pub -l drops the
 * newline), in files of at most MAX_MESSAGES_PER_PUBLISHER lines, one per publisher; and what
 * the stream must hold afterwards (shard-tally.ts: each message is one record).
 */
async function writeSensorReadings(dir: string, count: number, bytes: number): Promise<{ files: string[]; expected: ShardTally }> {
  const files: string[] = [];
  const expected: ShardTally = { records: count, dataBytes: count * bytes, crcSum: 0 };
  for (let first = 0; first < count; first += MAX_MESSAGES_PER_PUBLISHER) {
    const lines: string[] = [];
    for (let i = first; i < Math.min(count, first + MAX_MESSAGES_PER_PUBLISHER); i++) {
      const reading = `{"sensor":"t-${String(i % 64).padStart(2, '0')}","seq":${i},"celsius":${(18 + (i % 700) / 100).toFixed(2)},"pad":"`;
      const line = `${reading.padEnd(bytes - 2, 'x')}"}`;
      expected.crcSum = (expected.crcSum + crc32(Buffer.from(line, 'latin1').toString('base64'))) >>> 0;
      lines.push(line);
    }
    const file = join(dir, `messages-${files.length}.txt`);
    await writeFile(file, lines.join('\n') + '\n');
    files.push(file);
  }
  return { files, expected };
}

function deliveryOf(putCalls: number, flow: FlowStatus | undefined): Delivery {
  return {
    putCalls,
    batchesSpooled: flow?.batchesSpooled ?? Number.NaN,
    retries: flow?.retries ?? Number.NaN,
  };
}

function checkFlowStatus(result: AgentBenchResult, label: string, flow: FlowStatus | undefined, expected: number): void {
  if (flow === undefined) {
    result.problems.push(`${label}: no flow in the agent's status`);
    return;
  }
  if (flow.recordsSent !== expected) result.problems.push(`${label}: the agent reports ${flow.recordsSent} records sent, expected ${expected}`);
  if (flow.recordsFailed !== 0 || flow.recordsDropped !== 0 || flow.parseFailures !== 0) {
    result.problems.push(`${label}: ${flow.recordsFailed} records failed, ${flow.recordsDropped} dropped, ${flow.parseFailures} not parsed`);
  }
  if (flow.retries > 0) result.verified.push(`${label}: ${flow.retries} records were retried`);
}

/** Exactly `expected` records in the stream; with `--verify full`, read back and compared. */
async function verifyStream(
  context: Context,
  streamName: string,
  shardIds: string[],
  expected: number,
  unit: string,
  expectedTally: ShardTally,
): Promise<void> {
  const { result, client, options } = context;
  const incoming = await incomingRecords(context.collector.endpoint, streamName);
  if (incoming !== expected) result.problems.push(`${streamName}: the collector took ${incoming} records for ${expected} ${unit} (duplicates or losses)`);
  if (options.verify === 'count') {
    result.verified.push(`${streamName}: collector IncomingRecords = ${incoming} for ${expected} ${unit}`);
    return;
  }
  progress(`${streamName}: reading every shard back with GetRecords …`);
  const read = await readBackAllShards(client, streamName, shardIds);
  // Partition keys are random, so which shard holds a record is not known: compare the stream's totals.
  const total: ShardTally = { records: 0, dataBytes: 0, crcSum: 0 };
  for (const tally of Object.values(read.tallies)) {
    total.records += tally.records;
    total.dataBytes += tally.dataBytes;
    total.crcSum = (total.crcSum + tally.crcSum) >>> 0;
  }
  if (total.records !== expected) result.problems.push(`${streamName}: GetRecords read back ${total.records} records for ${expected} ${unit}`);
  if (total.dataBytes !== expectedTally.dataBytes || total.crcSum !== expectedTally.crcSum) {
    result.problems.push(`${streamName}: read back ${total.dataBytes} B / crc-sum ${total.crcSum}, what was sent has ${expectedTally.dataBytes} B / ${expectedTally.crcSum}`);
  }
  result.problems.push(...read.orderViolations.slice(0, 5));
  result.verified.push(
    `${streamName}: ${total.records} records read back from ${shardIds.length} shards, bytes and checksum equal to what was sent; collector IncomingRecords = ${incoming}`,
  );
}

function describeAgent(agent: BenchAgent): string {
  const recent = agent.logs.slice(-5).map((entry) => JSON.stringify(entry));
  let status: string;
  try {
    const { flows } = JSON.parse(readFileSync(join(agent.stateDir, 'status.json'), 'utf8')) as AgentStatus;
    status = JSON.stringify(flows);
  } catch (error) {
    status = `unreadable (${(error as Error).message})`;
  }
  return `its status: ${status}\nits last log lines:\n${recent.join('\n')}`;
}

function agentOptions(options: BenchOptions): BenchAgentOptions {
  return { nodeFlags: options.nodeFlags, env: options.agentEnv, ...(options.profileDir !== undefined ? { cpuProfileDir: options.profileDir } : {}) };
}

function printProfiles(context: Context, profilesBefore: Set<string>): void {
  const dir = context.options.profileDir;
  if (dir === undefined) return;
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !profilesBefore.has(name));
  for (const { pid, label, windows } of context.profiled) {
    // node names profiles CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile.
    const file = files.find((name) => name.split('.')[3] === String(pid));
    if (file === undefined) {
      process.stdout.write(`no CPU profile from agent pid ${pid} in ${dir}\n`);
      continue;
    }
    const path = join(dir, file);
    const summary = summarizeCpuProfile(
      path,
      windows.flatMap((usage) => usage.windows),
    );
    process.stdout.write(`\nAgent CPU profile, ${label} (${path}):\n${formatProfileSummary(summary, HOT_SPOTS_SHOWN)}\n`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  const profilesBefore = new Set(options.profileDir !== undefined ? readdirSync(options.profileDir) : []);
  const root = await makeTempDir('riffle-bench-agent-');
  let collector: CollectorProcess | undefined;
  const result: AgentBenchResult = { problems: [], verified: [], unchecked: [] };
  try {
    const collectorData = join(root.path, 'collector');
    await mkdir(collectorData);
    // Per-shard limits off: the file phase puts far more than Kinesis' 1 MB/s per shard.
    collector = await startCollector(collectorData, ['--shard-limits', 'off']);
    const context: Context = {
      options,
      root: root.path,
      collector,
      client: new KinesisHttpClient(collector.endpoint, createKeepAliveAgent(options.shards)),
      result,
      profiled: [],
    };
    const run = { file: runFilePhase, mqtt: runMqttPhase };
    for (const phase of options.phases) {
      try {
        await run[phase](context);
      } catch (error) {
        // Reported with the figures the other phases produced, rather than instead of them.
        result.problems.push(`${phase} phase failed: ${(error as Error).stack ?? String(error)}`);
      }
    }
    progress('done');
    process.stdout.write(`${reportAgentBench(result).join('\n')}\n`);
    printProfiles(context, profilesBefore);
  } finally {
    await collector?.stop();
    await root.remove();
  }
  if (result.problems.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:agent failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
