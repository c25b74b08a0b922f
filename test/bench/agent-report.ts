/** The agent benchmark's table: each figure beside its target from issue 3, and the verdicts. */
import type { MemoryFloor } from './agent-memory-floor.js';
import type { CpuUsage } from './cpu-sampling.js';

/** Targets on the reference machine (issue 3, "Benchmark"). */
export const agentTargets = {
  minFileMBps: 50,
  minShareOfZstdCeiling: 0.3,
  /** MiB, as systemd's MemoryMax counts. */
  maxPeakRssMiB: 64,
  maxIdleCpuPercent: 1,
  minMqttMessagesPerSecond: 20_000,
};

/** Other processes using more than this share of one core make a phase's figures suspect. */
const NOISY_OTHER_CPU_SHARE = 0.25;

/** How the agent shipped a phase's records: the shape of its traffic, to explain its speed. */
export interface Delivery {
  /** PutRecords calls the collector stored records from. */
  putCalls: number;
  /** Batches the flow wrote to its disk spool instead of sending from memory. */
  batchesSpooled: number;
  /** Records the flow sent again after a retryable failure. */
  retries: number;
}

export interface FilePhaseResult {
  lines: number;
  /** Lines the collector held at the end of the phase: all of them, unless it was cut. */
  deliveredLines: number;
  lineBytes: number;
  /** From spawning the agent to the collector holding every line (or the phase's cut). */
  elapsedMs: number;
  zstdCeilingMs: number;
  zstdFileBytes: number;
  agentCpuMs: number;
  /** VmHWM: everything resident, node's own binary included. */
  peakRssBytes: number;
  /** The highest anonymous resident set sampled during the phase: the heaps and buffers. */
  peakAnonymousBytes: number;
  /** The same node flags and environment without the agent: what no agent code can go below. */
  memoryFloor: MemoryFloor;
  /** The whole phase: agent, collector, and whatever else ran. */
  cpu: CpuUsage;
  collectorCpuMs?: number;
  /** Measured only once the agent caught up. */
  idle?: CpuUsage;
  delivery: Delivery;
}

export interface MqttPhaseResult {
  messages: number;
  /** Messages the collector held at the end of the phase: all of them, unless it was cut. */
  deliveredMessages: number;
  messageBytes: number;
  /** From the agent continuing, the broker holding every message, to the collector holding them all (or the phase's cut). */
  elapsedMs: number;
  /** Publishing all messages into the broker while the agent was stopped. */
  publishElapsedMs: number;
  publishers: number;
  agentCpuMs: number;
  /** VmHWM: everything resident, node's own binary included. */
  peakRssBytes: number;
  /** The highest anonymous resident set sampled during the phase: the heaps and buffers. */
  peakAnonymousBytes: number;
  cpu: CpuUsage;
  collectorCpuMs?: number;
  /** mosquitto, part of the path measured. */
  brokerCpuMs?: number;
  delivery: Delivery;
}

export interface AgentBenchResult {
  file?: FilePhaseResult;
  mqtt?: MqttPhaseResult;
  /** Lines or messages lost, duplicated, altered, or not acknowledged; empty when all is well. */
  problems: string[];
  /** What was checked, for the correctness row: e.g. "5000000 lines read back by GetRecords, checksums match". */
  verified: string[];
  /** Phases cut at their time limit, whose correctness could not be checked. */
  unchecked: string[];
}

export function reportAgentBench(result: AgentBenchResult): string[] {
  const rows: string[][] = [];
  const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const noisy: string[] = [];
  const { file, mqtt } = result;
  if (file !== undefined) {
    const seconds = file.elapsedMs / 1000;
    const deliveredBytes = file.deliveredLines * file.lineBytes;
    const mbps = deliveredBytes / 1e6 / seconds;
    const zstdMBps = file.zstdFileBytes / 1e6 / (file.zstdCeilingMs / 1000);
    const ratio = mbps / zstdMBps;
    const peakMiB = file.peakRssBytes / 2 ** 20;
    rows.push(
      [`file → collector, end to end${cutNote(file.deliveredLines, file.lines)}`, `${fixed(mbps, 1)} MB/s`, `≥ ${agentTargets.minFileMBps} MB/s`, verdict(mbps >= agentTargets.minFileMBps)],
      ['  lines/s', fixed(file.deliveredLines / seconds, 0), '', ''],
      ['  zstd -3 -T1 ceiling (same file)', `${fixed(zstdMBps, 1)} MB/s`, '', ''],
      ['  agent / zstd ceiling', `${fixed(ratio, 2)}×`, `≥ ${agentTargets.minShareOfZstdCeiling}×`, verdict(ratio >= agentTargets.minShareOfZstdCeiling)],
      ['  agent CPU per GB', `${fixed(file.agentCpuMs / 1000 / (deliveredBytes / 1e9), 1)} CPU-s`, '', ''],
      ['  collector CPU per GB', `${fixed((file.collectorCpuMs ?? Number.NaN) / 1000 / (deliveredBytes / 1e9), 1)} CPU-s`, '', ''],
      ['  agent CPU, collector CPU, other', cpuShares(file.cpu, file.agentCpuMs, file.collectorCpuMs), '(100% = 1 core)', ''],
      ...deliveryRows(file.delivery, file.deliveredLines),
      ['agent peak RSS (file flow)', `${fixed(peakMiB, 1)} MiB`, `≤ ${agentTargets.maxPeakRssMiB} MiB`, verdict(peakMiB <= agentTargets.maxPeakRssMiB)],
      ['  of which anonymous (sampled peak)', `${fixed(file.peakAnonymousBytes / 2 ** 20, 1)} MiB`, '', ''],
      ['  floor: node alone, same flags', `${fixed(file.memoryFloor.nodeBytes / 2 ** 20, 1)} MiB`, '', ''],
      ['  floor: node + zstd-codec compressing bodies', `${fixed(file.memoryFloor.nodeWithZstdBytes / 2 ** 20, 1)} MiB`, '', ''],
    );
    if (file.idle !== undefined) {
      const idlePercent = (100 * (file.idle.targetMs ?? Number.NaN)) / file.idle.wallMs;
      rows.push([`agent idle CPU (${fixed(file.idle.wallMs / 1000, 0)} s, no new data)`, `${fixed(idlePercent, 2)}%`, `< ${agentTargets.maxIdleCpuPercent}%`, verdict(idlePercent < agentTargets.maxIdleCpuPercent)]);
    } else {
      rows.push(['agent idle CPU', 'not measured', `< ${agentTargets.maxIdleCpuPercent}%`, 'n/a']);
    }
    if (isNoisy(file.cpu, file.agentCpuMs, file.collectorCpuMs)) noisy.push('file phase');
  }
  if (mqtt !== undefined) {
    const perSecond = mqtt.deliveredMessages / (mqtt.elapsedMs / 1000);
    const peakMiB = mqtt.peakRssBytes / 2 ** 20;
    rows.push(
      [`MQTT QoS 1 broker → collector, backlog${cutNote(mqtt.deliveredMessages, mqtt.messages)}`, `${fixed(perSecond, 0)} msg/s`, `≥ ${agentTargets.minMqttMessagesPerSecond} msg/s`, verdict(perSecond >= agentTargets.minMqttMessagesPerSecond)],
      [`  publishing into the broker (mosquitto_pub × ${mqtt.publishers})`, `${fixed(mqtt.messages / (mqtt.publishElapsedMs / 1000), 0)} msg/s`, '', ''],
      ['  agent CPU per 100k messages', `${fixed(mqtt.agentCpuMs / 1000 / (mqtt.deliveredMessages / 100_000), 2)} CPU-s`, '', ''],
      ['  agent CPU, collector CPU, broker CPU, other', cpuShares(mqtt.cpu, mqtt.agentCpuMs, mqtt.collectorCpuMs, mqtt.brokerCpuMs), '(100% = 1 core)', ''],
      ...deliveryRows(mqtt.delivery, mqtt.deliveredMessages),
      ['agent peak RSS (MQTT flow)', `${fixed(peakMiB, 1)} MiB`, `≤ ${agentTargets.maxPeakRssMiB} MiB`, verdict(peakMiB <= agentTargets.maxPeakRssMiB)],
      ['  of which anonymous (sampled peak)', `${fixed(mqtt.peakAnonymousBytes / 2 ** 20, 1)} MiB`, '', ''],
    );
    if (isNoisy(mqtt.cpu, mqtt.agentCpuMs, mqtt.collectorCpuMs, mqtt.brokerCpuMs)) noisy.push('MQTT phase');
  }
  const checkedAll = result.unchecked.length === 0;
  const stored = result.problems.length > 0 ? 'NO' : checkedAll ? 'yes' : 'yes, in the phases checked';
  rows.push(['every line/message stored exactly once', stored, 'all', result.problems.length > 0 ? 'FAIL' : checkedAll ? 'PASS' : 'n/a']);
  const out = ['', table(['measure', 'value', 'target', 'verdict'], rows)];
  for (const line of result.verified) out.push(`verified: ${line}`);
  for (const line of result.unchecked) out.push(`CUT: ${line}`);
  for (const problem of result.problems) out.push(`PROBLEM: ${problem}`);
  for (const phase of noisy) out.push(`NOISY ${phase}: other processes used more than ${NOISY_OTHER_CPU_SHARE * 100}% of a core, so its figures are not reliable`);
  return out;
}

/** Marks a figure taken from a phase cut at its time limit. */
function cutNote(delivered: number, planned: number): string {
  return delivered < planned ? ` (cut: ${delivered} of ${planned})` : '';
}

function deliveryRows(delivery: Delivery, records: number): string[][] {
  return [
    ['  PutRecords calls (records per call)', `${delivery.putCalls} (${fixed(records / delivery.putCalls, 1)})`, '', ''],
    ['  batches through the disk spool, records retried', `${delivery.batchesSpooled}, ${delivery.retries}`, '', ''],
  ];
}

/** Busy CPU that was none of the measured processes: other people's work, the kernel's writeback. */
function otherCpuMs(cpu: CpuUsage, agentMs: number, collectorMs: number | undefined, brokerMs = 0): number | undefined {
  return cpu.machineBusyMs === undefined || collectorMs === undefined ? undefined : Math.max(0, cpu.machineBusyMs - agentMs - collectorMs - brokerMs);
}

function isNoisy(cpu: CpuUsage, agentMs: number, collectorMs: number | undefined, brokerMs?: number): boolean {
  const other = otherCpuMs(cpu, agentMs, collectorMs, brokerMs);
  return other !== undefined && other / cpu.wallMs > NOISY_OTHER_CPU_SHARE;
}

function cpuShares(cpu: CpuUsage, agentMs: number, collectorMs: number | undefined, brokerMs?: number): string {
  const share = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${fixed((100 * ms) / cpu.wallMs, 0)}%`);
  const measured = brokerMs === undefined ? [agentMs, collectorMs] : [agentMs, collectorMs, brokerMs];
  return [...measured, otherCpuMs(cpu, agentMs, collectorMs, brokerMs)].map(share).join(', ');
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
