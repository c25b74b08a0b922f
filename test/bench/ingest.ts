/**
 * `npm run bench:ingest` — PutRecords ingest throughput of Riffle against its closest peer
 * (kinesalite) and against the ceiling of any Node front end (a bare `node:http` server), then a
 * GetRecords read-back that checks every acknowledged record is there, intact and in order.
 *
 * How it measures, on a small machine (the reference box has 2 cores):
 * - Each target runs in its own process; each load (put-load.ts) is forked into another, so no
 *   two share an event loop; this orchestrator only waits. Client and target still share the
 *   cores: the absolute numbers are what this machine does with the client on it too. Every
 *   target faces the same client, so the ratios compare like with like, and the CPU columns
 *   (from /proc) show who used the cycles — "records/target CPU-s" is the efficiency figure
 *   that does not depend on how the cores were shared.
 * - Only one target runs at a time: the others are SIGSTOPped, so their background work
 *   (kinesalite's LevelDB compactions, Riffle's timers) happens in their own windows and is
 *   charged to them. The measured time is split into rounds that visit the targets in turn
 *   (Riffle, kinesalite, bare, Riffle, …), so a burst of unrelated work on a shared machine
 *   lands on all of them rather than on one; "other CPU" shows how much there was (kernel
 *   writeback included), and a NOISY line says when it was enough to distort the figures.
 * - Same load for all: N concurrent keep-alive HTTP/1.1 connections, each with one PutRecords of
 *   500 × 1 KB random records and random partition keys in flight (closed loop); a warm-up, then
 *   a measured window, in every round. Latency is per call, from the request's start to its
 *   parsed answer, in the client.
 * - Riffle acknowledges only after a durable (O_DSYNC) write; kinesalite never syncs; the bare server stores nothing.
 * - MB means 10^6 bytes of record data (not request bytes, which base64 makes 4/3 larger).
 *
 * Options (flag, or the BENCH_* environment variable):
 *   --duration-s N        measured seconds per target, over all rounds (BENCH_DURATION_S, default 10)
 *   --calls N             measure N calls per target instead, over all rounds (BENCH_CALLS)
 *   --rounds N            rounds the measurement is split into (BENCH_ROUNDS, default 2)
 *   --warmup-s N          warm-up seconds before each measured window (BENCH_WARMUP_S, default 2)
 *   --connections N       concurrent connections = calls in flight (BENCH_CONNECTIONS, default 4)
 *   --records-per-call N  (BENCH_RECORDS_PER_CALL, default 500 — the PutRecords maximum)
 *   --record-bytes N      data bytes per record (BENCH_RECORD_BYTES, default 1024)
 *   --protocol json|cbor  PutRecords bodies in JSON 1.1 (base64 Data) or CBOR 1.1 (Data as byte
 *                         strings, what the Java SDK, the KPL and the Riffle agent send); the
 *                         bare server speaks JSON only, so CBOR runs riffle,kinesalite by default
 *                         (BENCH_PROTOCOL, default json)
 *   --shards N            shards in the stream (BENCH_SHARDS, default 4)
 *   --targets LIST        comma-separated riffle,kinesalite,bare (BENCH_TARGETS, default all)
 *   --profile DIR         run Riffle under `--cpu-prof` into DIR and print its hot spots in the
 *                         put windows and in the read-back (BENCH_PROFILE)
 *
 * Exits 1 when a record is lost, altered or reordered, or a target fails; missed goals are
 * reported as FAIL lines but do not change the exit code.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchSettings } from './bench-options.js';
import { startBenchTarget, targetKinds, type BenchTarget, type TargetKind } from './bench-targets.js';
import { formatProfileSummary, summarizeCpuProfile } from './cpu-profile-summary.js';
import { addCpuUsage, cpuBetween, snapshotCpu, type CpuSnapshot, type CpuUsage } from './cpu-sampling.js';
import { reportRuns, type TargetRun } from './ingest-report.js';
import { benchProtocols, createKeepAliveAgent, KinesisHttpClient, type BenchProtocol } from './kinesis-http-client.js';
import { mergePutLoads, type PutLoadMessage, type PutLoadPlan, type PutLoadResult } from './put-load.js';
import { readBackAllShards } from './read-back.js';
import { tallyMismatches, totalRecords } from './shard-tally.js';
import { createBenchStream } from './stream-setup.js';

interface BenchOptions {
  /** Per target, over all rounds: exactly one of the two. */
  durationMs?: number;
  measuredCalls?: number;
  rounds: number;
  warmupMs: number;
  connections: number;
  recordsPerCall: number;
  recordBytes: number;
  protocol: BenchProtocol;
  shards: number;
  targets: TargetKind[];
  profileDir?: string;
}

const STREAM_NAME = 'bench-ingest';
const HOT_SPOTS_SHOWN = 25;
const ORDER_VIOLATIONS_SHOWN = 10;

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'duration-s': { type: 'string' },
      calls: { type: 'string' },
      rounds: { type: 'string' },
      'warmup-s': { type: 'string' },
      connections: { type: 'string' },
      'records-per-call': { type: 'string' },
      'record-bytes': { type: 'string' },
      protocol: { type: 'string' },
      shards: { type: 'string' },
      targets: { type: 'string' },
      profile: { type: 'string' },
    },
    strict: true,
  });
  const { setting, positive, whole, listOf } = benchSettings(values, env);
  const protocol = (setting('protocol') ?? 'json') as BenchProtocol;
  if (!benchProtocols.includes(protocol)) throw new Error(`--protocol must be one of ${benchProtocols.join(', ')}, got ${protocol}`);
  const targets = setting('targets') === undefined && protocol === 'cbor' ? targetKinds.filter((kind) => kind !== 'bare') : listOf('targets', targetKinds);
  if (protocol === 'cbor' && targets.includes('bare')) throw new Error('--protocol cbor: the bare server speaks JSON only; leave it out of --targets');
  const profile = setting('profile');
  return {
    ...(setting('calls') !== undefined ? { measuredCalls: whole('calls', 1) } : { durationMs: positive('duration-s', 10) * 1000 }),
    rounds: whole('rounds', 2),
    warmupMs: positive('warmup-s', 2) * 1000,
    connections: whole('connections', 4),
    recordsPerCall: whole('records-per-call', 500),
    recordBytes: whole('record-bytes', 1024),
    protocol,
    shards: whole('shards', 4),
    targets,
    ...(profile !== undefined ? { profileDir: resolve(profile) } : {}),
  };
}

function callsPerRound(options: BenchOptions): number {
  return Math.ceil(options.measuredCalls! / options.rounds);
}

/** The measured window per target, over `share` of the rounds. */
function describeWindow(options: BenchOptions, share: number): string {
  if (options.measuredCalls !== undefined) return `${callsPerRound(options) * options.rounds * share} calls`;
  return `${(options.durationMs! * share) / 1000} s`;
}

/** Forks one load against the target; samples the CPU over its measured window. */
function runLoadProcess(plan: PutLoadPlan, targetPid: number): Promise<{ load: PutLoadResult; cpu: CpuUsage }> {
  const child = fork(new URL('./put-load.js', import.meta.url), [JSON.stringify(plan)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolvePromise, reject) => {
    let windowStart: CpuSnapshot | undefined;
    let cpu: CpuUsage | undefined;
    let load: PutLoadResult | undefined;
    child.on('message', (message: PutLoadMessage) => {
      if (message.type === 'measuring') windowStart = snapshotCpu(targetPid);
      if (message.type === 'measured' && windowStart !== undefined) cpu = cpuBetween(windowStart, snapshotCpu(targetPid));
      if (message.type === 'result') load = message.result;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (load === undefined || cpu === undefined) reject(new Error(`the load generator exited with ${String(code)} without a measured result`));
      else resolvePromise({ load, cpu });
    });
  });
}

interface TargetUnderTest {
  target: BenchTarget;
  shardIds: string[];
  load?: PutLoadResult;
  putCpu?: CpuUsage;
}

async function putRound(subject: TargetUnderTest, options: BenchOptions): Promise<void> {
  const { load, cpu } = await runLoadProcess(
    {
      endpoint: subject.target.endpoint,
      streamName: STREAM_NAME,
      connections: options.connections,
      recordsPerCall: options.recordsPerCall,
      recordBytes: options.recordBytes,
      protocol: options.protocol,
      warmupMs: options.warmupMs,
      ...(options.durationMs !== undefined ? { durationMs: options.durationMs / options.rounds } : {}),
      ...(options.measuredCalls !== undefined ? { measuredCalls: callsPerRound(options) } : {}),
    },
    subject.target.pid,
  );
  subject.load = subject.load === undefined ? load : mergePutLoads(subject.load, load);
  subject.putCpu = subject.putCpu === undefined ? cpu : addCpuUsage(subject.putCpu, cpu);
}

async function readBack({ target, shardIds, load, putCpu }: TargetUnderTest): Promise<TargetRun> {
  if (load === undefined || putCpu === undefined) throw new Error(`${target.label} was never measured`);
  const run: TargetRun = { target: { kind: target.kind, label: target.label }, load, putCpu, problems: [] };
  for (const [type, count] of Object.entries(load.callErrors)) run.problems.push(`${count} PutRecords calls refused with ${type}`);
  if (load.failedRecords > 0) run.problems.push(`${load.failedRecords} records failed inside PutRecords answers`);
  if (!target.hasStreams) return run;

  process.stdout.write(`${target.label}: reading ${totalRecords(load.acknowledged)} acknowledged records back …\n`);
  const start = snapshotCpu(target.pid);
  // One connection per shard: the shards are read concurrently.
  run.read = await readBackAllShards(new KinesisHttpClient(target.endpoint, createKeepAliveAgent(shardIds.length)), STREAM_NAME, shardIds);
  run.readCpu = cpuBetween(start, snapshotCpu(target.pid));
  run.problems.push(...tallyMismatches(load.acknowledged, run.read.tallies), ...run.read.orderViolations.slice(0, ORDER_VIOLATIONS_SHOWN));
  if (run.read.orderViolations.length > ORDER_VIOLATIONS_SHOWN) {
    run.problems.push(`… ${run.read.orderViolations.length - ORDER_VIOLATIONS_SHOWN} more sequence numbers out of order`);
  }
  return run;
}

function runOnly(active: TargetUnderTest, subjects: TargetUnderTest[]): void {
  for (const subject of subjects) {
    if (subject === active) subject.target.resume();
    else subject.target.pause();
  }
}

async function runBenchmark(options: BenchOptions): Promise<TargetRun[]> {
  const subjects: TargetUnderTest[] = [];
  try {
    for (const kind of options.targets) {
      const target = await startBenchTarget(kind, kind === 'riffle' && options.profileDir !== undefined ? { cpuProfileDir: options.profileDir } : {});
      const subject: TargetUnderTest = { target, shardIds: [] };
      subjects.push(subject);
      if (target.hasStreams) subject.shardIds = await createBenchStream(new KinesisHttpClient(target.endpoint, createKeepAliveAgent(1)), STREAM_NAME, options.shards);
    }
    const slice = describeWindow(options, 1 / options.rounds);
    for (let round = 1; round <= options.rounds; round++) {
      for (const subject of subjects) {
        process.stdout.write(`round ${round}/${options.rounds}, ${subject.target.label}: ${options.warmupMs / 1000} s warm-up, then ${slice} measured …\n`);
        runOnly(subject, subjects);
        await putRound(subject, options);
      }
    }
    const runs: TargetRun[] = [];
    for (const subject of subjects) {
      runOnly(subject, subjects);
      runs.push(await readBack(subject));
    }
    // Stopped before reporting: Riffle writes its CPU profile as it exits.
    while (subjects.length > 0) await subjects.pop()!.target.stop();
    return runs;
  } finally {
    for (const { target } of subjects) await target.stop().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  const profilesBefore = new Set(options.profileDir !== undefined ? readdirSync(options.profileDir) : []);
  const runs = await runBenchmark(options);
  process.stdout.write(`${reportRuns(runs, { ...options, window: describeWindow(options, 1) }).join('\n')}\n`);

  const riffle = runs.find((run) => run.target.kind === 'riffle');
  if (options.profileDir !== undefined && riffle !== undefined) {
    for (const file of readdirSync(options.profileDir).filter((name) => name.endsWith('.cpuprofile') && !profilesBefore.has(name))) {
      const path = join(options.profileDir, file);
      const phases: Array<[string, CpuUsage | undefined]> = [
        ['measured PutRecords windows', riffle.putCpu],
        ['GetRecords read-back', riffle.readCpu],
      ];
      for (const [phase, cpu] of phases) {
        if (cpu === undefined) continue;
        process.stdout.write(`\nRiffle CPU profile, ${phase} (${path}):\n${formatProfileSummary(summarizeCpuProfile(path, cpu.windows), HOT_SPOTS_SHOWN)}\n`);
      }
    }
  }
  if (runs.some((run) => run.problems.length > 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ingest failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
