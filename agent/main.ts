#!/usr/bin/env node
/**
 * riffle-agent: `riffle-agent [--config FILE] [--state-dir DIR]` runs the flows of an
 * agent.json; `riffle-agent status [--state-dir DIR]` prints what the running agent reports.
 * SIGTERM/SIGINT: stop reading, deliver or spool within shutdownTimeoutMillis, exit 0.
 * SIGHUP: reload the config (a bad new config is logged and the running flows stay).
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import { Spool } from './buffer/spool.js';
import { MAX_GENERATED_PARTITION_KEY_BYTES, targetQuotas } from './buffer/batcher.js';
import { ConfigError, loadAgentConfig, type AgentConfig, type FlowConfig } from './config.js';
import { Flow } from './pipeline.js';
import { buildProcessors, type Processor } from './processors/index.js';
import { settleAll } from './record.js';
import { createSink, sinkOptionsFor } from './sinks/index.js';
import type { MqttFlowHandler, MqttSource } from './sources/mqtt.js';
import { CheckpointStore, createTailSource, type TailSource } from './sources/tail/index.js';
import { printStatus, writeStatus } from './status.js';

const log = createLogger('agent');
const STATUS_INTERVAL_MS = 5_000;

const usage = `Usage: riffle-agent [--config FILE] [--state-dir DIR]
       riffle-agent status [--state-dir DIR]

  --config FILE     agent.json, Kinesis Agent format plus Riffle's additions (default /etc/riffle/agent.json)
  --state-dir DIR   checkpoints, spool and status (default /var/lib/riffle-agent)
`;

interface Running {
  flows: Flow[];
  tails: TailSource[];
  mqtt: MqttSource | undefined;
  checkpoints: CheckpointStore;
  spools: Spool[];
  statusTimer: NodeJS.Timeout | undefined;
  config: AgentConfig;
  sources: Map<Flow, () => unknown>;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { config: { type: 'string' }, 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`riffle-agent: ${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const stateDir = values['state-dir'] ?? '/var/lib/riffle-agent';
  const configFile = values.config ?? '/etc/riffle/agent.json';
  if (positionals[0] === 'status') {
    process.exitCode = await printStatus(stateDir, Date.now(), (text) => process.stdout.write(text));
    return;
  }
  if (positionals.length > 0) {
    process.stderr.write(`riffle-agent: unknown command ${positionals[0]}\n${usage}`);
    process.exit(2);
  }

  let config: AgentConfig;
  try {
    config = loadAgentConfig(configFile, stateDir, process.env);
    checkProcessors(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`riffle-agent: config error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  await mkdir(stateDir, { recursive: true });
  const startedAtMs = Date.now();
  // Signal handlers go in before anything starts: a SIGTERM that arrives while the flows start
  // (say, right after the `started` line) must stop the agent cleanly, not kill it by default.
  let running: Promise<Running> = start(config, stateDir, startedAtMs);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const current = await running;
    log('stopping', { signal, timeoutMs: current.config.shutdownTimeoutMillis });
    await shutdown(current);
    log('stopped', {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    let next: AgentConfig;
    try {
      next = loadAgentConfig(configFile, stateDir, process.env);
      checkProcessors(next);
    } catch (error) {
      log('reload_refused', { error: (error as Error).message });
      return;
    }
    log('reloading', { config: configFile });
    const previous = running;
    running = (async () => {
      await shutdown(await previous);
      return start(next, stateDir, startedAtMs);
    })();
  });
  await running;
}

function checkProcessors(config: AgentConfig): void {
  config.flows.forEach((flow, i) => buildProcessors(flow.dataProcessingOptions, `${config.file}: flows[${i}]: key 'dataProcessingOptions'`));
}

async function start(config: AgentConfig, stateDir: string, startedAtMs: number): Promise<Running> {
  if (config.ignoredKeys.length > 0) log('config_keys_ignored', { keys: config.ignoredKeys });
  const checkpoints = await CheckpointStore.open(config.checkpointFile, { onError: (error) => log('checkpoint_error', { code: error.code, message: error.message }) });
  const running: Running = { flows: [], tails: [], mqtt: undefined, checkpoints, spools: [], statusTimer: undefined, config, sources: new Map() };
  const spoolShareMB = Math.max(1, Math.floor(config.spool.maxSizeMB / config.flows.length));
  for (const [i, flowConfig] of config.flows.entries()) {
    const processor: Processor = buildProcessors(flowConfig.dataProcessingOptions, `${config.file}: flows[${i}]: key 'dataProcessingOptions'`);
    const { kind, options } = sinkOptionsFor(config, flowConfig);
    const sink = createSink(kind, options, { clock: systemClock, env: process.env });
    let flow: Flow | undefined;
    const spool = await Spool.open({
      directory: join(config.spool.directory, spoolDirName(flowConfig)),
      maxSizeMB: spoolShareMB,
      whenFull: flowConfig.whenSpoolFull,
      onDrop: (dropped) => {
        settleAll(dropped.acks);
        log('spool_dropped', { flow: flowConfig.id, records: dropped.records, bytes: dropped.dataBytes });
      },
      onFullChange: (full) => flow?.spoolFullChanged(full),
      log,
    });
    running.spools.push(spool);
    let pauseSource: (paused: boolean) => void = () => undefined;
    flow = new Flow({
      config: flowConfig,
      processor,
      sink,
      spool,
      clock: systemClock,
      log,
      maxConcurrentSends: config.maxSendingThreads,
      onBackpressure: (paused) => pauseSource(paused),
    });
    const currentFlow = flow;
    running.flows.push(flow);
    if (flowConfig.source.kind === 'file') {
      const tail = createTailSource(
        {
          flowId: flowConfig.id,
          filePattern: flowConfig.source.filePattern,
          initialPosition: flowConfig.source.initialPosition,
          skipHeaderLines: flowConfig.source.skipHeaderLines,
          truncatedRecordTerminator: flowConfig.source.truncatedRecordTerminator,
          // Room for the partition key the flow generates under the target's record quota.
          maxRecordBytes: targetQuotas[flowConfig.destination.kind].maxRecordBytes - MAX_GENERATED_PARTITION_KEY_BYTES,
          ...(flowConfig.source.multiLineStartPattern !== undefined ? { multiLineStartPattern: flowConfig.source.multiLineStartPattern } : {}),
        },
        {
          consumer: { emit: (record) => currentFlow.accept(record) },
          checkpoints,
          log,
          onError: (error) => log('tail_error', { flow: flowConfig.id, code: error.code, message: error.message }),
        },
      );
      pauseSource = (paused) => (paused ? tail.pause() : tail.resume());
      running.tails.push(tail);
      running.sources.set(flow, () => tail.status());
    } else {
      // Loaded only when a flow needs it: mqtt.js and its dependencies cost ~18 MB of RSS.
      if (!running.mqtt) running.mqtt = new (await import('./sources/mqtt.js')).MqttSource(config.mqtt!, log);
      const mqtt = running.mqtt;
      const handler: MqttFlowHandler = { config: flowConfig.source, emit: (record) => currentFlow.accept(record), onPressure: () => currentFlow.flushNow() };
      mqtt.addFlow(handler);
      pauseSource = (paused) => (paused ? mqtt.pause(handler) : mqtt.resume(handler));
      running.sources.set(flow, () => mqtt.status());
    }
  }
  for (const tail of running.tails) await tail.start();
  if (running.mqtt) await running.mqtt.start();
  const report = () =>
    writeStatus(stateDir, {
      writtenAtMs: Date.now(),
      pid: process.pid,
      startedAtMs,
      flows: running.flows.map((flow) => ({ ...flow.status(), source: running.sources.get(flow)?.() })),
    }).catch((error) => log('status_write_failed', { error: String(error) }));
  running.statusTimer = setInterval(() => void report(), STATUS_INTERVAL_MS);
  void report();
  log('started', { flows: config.flows.map((f) => f.id), stateDir });
  return running;
}

async function shutdown(running: Running): Promise<void> {
  clearInterval(running.statusTimer);
  // Stop reading first, then deliver or spool what was read; checkpoints are written last.
  await Promise.all(running.tails.map((tail) => tail.stop()));
  await Promise.all(running.flows.map((flow) => flow.stop(running.config.shutdownTimeoutMillis)));
  await running.mqtt?.stop();
  await running.checkpoints.close();
  for (const spool of running.spools) await spool.close();
}

/** A flow's spool directory: readable, and unique even when ids only differ in punctuation. */
function spoolDirName(flow: FlowConfig): string {
  const readable = flow.id.replace(/[^a-zA-Z0-9_.-]+/g, '_').slice(0, 60);
  return `${readable}-${createHash('sha256').update(flow.id).digest('hex').slice(0, 8)}`;
}

main().catch((error) => {
  log('fatal', { error: String(error), stack: (error as Error).stack });
  process.exit(1);
});
