/** The ingest benchmark's tables, its noise warnings and its verdicts on the goals. */
import type { TargetKind } from './bench-targets.js';
import type { CpuUsage } from './cpu-sampling.js';
import type { PutLoadResult } from './put-load.js';
import type { ReadBackResult } from './read-back.js';
import { totalRecords } from './shard-tally.js';
import { percentile } from './percentile.js';

/** The goals from the ingest-benchmark issue, for Riffle. */
const goals = {
  minShareOfBareCeiling: 0.8,
  minMultipleOfKinesalite: 6,
  maxP99PutLatencyMs: 50,
  minReadMBps: 200,
};

/** Other processes using more than this share of one core make a phase's figures suspect. */
const NOISY_OTHER_CPU_SHARE = 0.25;

export interface TargetRun {
  target: { kind: TargetKind; label: string };
  load: PutLoadResult;
  /** Over the measured put windows. */
  putCpu: CpuUsage;
  read?: ReadBackResult;
  readCpu?: CpuUsage;
  /** Lost, altered or reordered records, and calls the target refused. */
  problems: string[];
}

export interface RunShape {
  recordsPerCall: number;
  recordBytes: number;
  protocol: string;
  connections: number;
  shards: number;
  rounds: number;
  /** e.g. "10 s" or "2000 calls", per target over all rounds. */
  window: string;
}

export function reportRuns(runs: TargetRun[], shape: RunShape): string[] {
  const out = [
    '',
    `PutRecords (${shape.protocol.toUpperCase()}): ${shape.recordsPerCall} × ${shape.recordBytes} B records per call, ${shape.connections} keep-alive connections, ${shape.shards} shards, ${shape.window} measured per target in ${shape.rounds} interleaved round(s)`,
    table(
      ['target', 'records/s', 'MB/s', 'p50 ms', 'p99 ms', 'calls', 'target CPU', 'client CPU', 'other CPU', 'records/target CPU-s'],
      runs.map(({ target, load, putCpu }) => {
        const figures = putFigures(load);
        return [
          target.label,
          fixed(figures.recordsPerSecond, 0),
          fixed(figures.megabytesPerSecond, 1),
          fixed(figures.p50Ms, 1),
          fixed(figures.p99Ms, 1),
          String(load.measured.calls),
          cpuShare(putCpu.targetMs, putCpu),
          cpuShare(load.measured.clientCpuMs, putCpu),
          cpuShare(otherCpuMs(putCpu, load.measured.clientCpuMs), putCpu),
          putCpu.targetMs === undefined ? 'n/a' : fixed(load.measured.records / (putCpu.targetMs / 1000), 0),
        ];
      }),
    ),
  ];
  const reads = runs.flatMap((run) => (run.read !== undefined && run.readCpu !== undefined ? [{ ...run, read: run.read, readCpu: run.readCpu }] : []));
  if (reads.length > 0) {
    out.push(
      '',
      'GetRecords read-back: every shard from TRIM_HORIZON, Limit 10000, shards read concurrently',
      table(
        ['target', 'records', 'MB/s', 'records/s', 'calls', 'target CPU', 'client CPU', 'other CPU', 'matches acks'],
        reads.map(({ target, read, readCpu, problems }) => [
          target.label,
          String(read.records),
          fixed(readMegabytesPerSecond(read), 1),
          fixed(read.records / (read.elapsedMs / 1000), 0),
          String(read.calls),
          cpuShare(readCpu.targetMs, readCpu),
          cpuShare(read.clientCpuMs, readCpu),
          cpuShare(otherCpuMs(readCpu, read.clientCpuMs), readCpu),
          problems.length === 0 ? 'yes' : 'NO',
        ]),
      ),
    );
  }
  for (const run of runs) for (const problem of run.problems) out.push(`PROBLEM ${run.target.label}: ${problem}`);
  const noise = noiseWarnings(runs);
  out.push(...noise.map(({ line }) => line));

  const riffle = runs.find((run) => run.target.kind === 'riffle');
  if (riffle !== undefined) out.push('', ...goalVerdicts(riffle, runs, noise.some(({ affectsGoals }) => affectsGoals)));
  return out;
}

function goalVerdicts(riffle: TargetRun, runs: TargetRun[], noisy: boolean): string[] {
  const riffleFigures = putFigures(riffle.load);
  const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const out = [noisy ? 'Goals for Riffle (a NOISY run: other processes took CPU, so these verdicts are not reliable):' : 'Goals for Riffle:'];
  const bare = runs.find((run) => run.target.kind === 'bare');
  if (bare !== undefined) {
    const ratio = riffleFigures.recordsPerSecond / putFigures(bare.load).recordsPerSecond;
    out.push(`  ${verdict(ratio >= goals.minShareOfBareCeiling)}  records/s vs bare ceiling: ${fixed(ratio, 2)}× (goal ≥ ${goals.minShareOfBareCeiling}×)`);
  }
  const kinesalite = runs.find((run) => run.target.kind === 'kinesalite');
  if (kinesalite !== undefined) {
    const ratio = riffleFigures.recordsPerSecond / putFigures(kinesalite.load).recordsPerSecond;
    out.push(`  ${verdict(ratio >= goals.minMultipleOfKinesalite)}  records/s vs kinesalite: ${fixed(ratio, 2)}× (goal ≥ ${goals.minMultipleOfKinesalite}×)`);
  }
  out.push(`  ${verdict(riffleFigures.p99Ms <= goals.maxP99PutLatencyMs)}  p99 PutRecords latency: ${fixed(riffleFigures.p99Ms, 1)} ms (goal ≤ ${goals.maxP99PutLatencyMs} ms)`);
  if (riffle.read !== undefined) {
    const readMBps = readMegabytesPerSecond(riffle.read);
    out.push(`  ${verdict(readMBps >= goals.minReadMBps)}  read throughput: ${fixed(readMBps, 1)} MB/s (goal ≥ ${goals.minReadMBps} MB/s)`);
  }
  out.push(
    `  ${verdict(riffle.problems.length === 0)}  every acknowledged record read back intact and in order (${totalRecords(riffle.load.acknowledged)} acknowledged, ${riffle.read?.records ?? 0} read)`,
  );
  return out;
}

/** The goals rest on every target's puts and on Riffle's reads; kinesalite's read-back is only reported. */
function noiseWarnings(runs: TargetRun[]): Array<{ line: string; affectsGoals: boolean }> {
  return runs.flatMap((run) => {
    const phases: Array<[string, CpuUsage | undefined, number, boolean]> = [
      ['put', run.putCpu, run.load.measured.clientCpuMs, true],
      ['read', run.readCpu, run.read?.clientCpuMs ?? 0, run.target.kind === 'riffle'],
    ];
    return phases.flatMap(([phase, cpu, clientCpuMs, affectsGoals]) => {
      const other = cpu === undefined ? undefined : otherCpuMs(cpu, clientCpuMs);
      if (cpu === undefined || other === undefined || other / cpu.wallMs <= NOISY_OTHER_CPU_SHARE) return [];
      return [{ line: `NOISY ${run.target.label} ${phase}: other processes used ${cpuShare(other, cpu)} of a core`, affectsGoals }];
    });
  });
}

interface PutFigures {
  recordsPerSecond: number;
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** MB are 10^6 bytes of record data. */
function putFigures(load: PutLoadResult): PutFigures {
  const seconds = load.measured.elapsedMs / 1000;
  const latencies = [...load.measured.latenciesMs].sort((a, b) => a - b);
  return {
    recordsPerSecond: load.measured.records / seconds,
    megabytesPerSecond: load.measured.dataBytes / 1e6 / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

function readMegabytesPerSecond(read: ReadBackResult): number {
  return read.dataBytes / 1e6 / (read.elapsedMs / 1000);
}

/** Nearest-rank percentile of an ascending list. */

/** Busy CPU on the machine that was neither the target nor the benchmark's client. */
function otherCpuMs(cpu: CpuUsage, clientCpuMs: number): number | undefined {
  return cpu.machineBusyMs === undefined || cpu.targetMs === undefined ? undefined : Math.max(0, cpu.machineBusyMs - cpu.targetMs - clientCpuMs);
}

/** CPU time as a share of one core: 200% is both cores of the reference box. */
function cpuShare(cpuMs: number | undefined, over: CpuUsage): string {
  return cpuMs === undefined ? 'n/a' : `${fixed((100 * cpuMs) / over.wallMs, 0)}%`;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
