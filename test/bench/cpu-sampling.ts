/**
 * Who used the CPU during a phase of the run, from Linux's /proc: the target process (all its
 * threads), and the whole machine. On a shared 2-core box this is what makes a run honest: the
 * target's share, the client's share (measured by the client itself), and whatever else was
 * running — other people's test suites included — which the report shows as "other CPU".
 *
 * Timestamps are CLOCK_MONOTONIC microseconds (`process.hrtime`), the clock V8 stamps CPU
 * profile samples with, so a phase can also cut the target's `--cpu-prof` profile.
 */
import { readFileSync } from 'node:fs';

/** /proc reports times in USER_HZ ticks, which Linux fixes at 100 per second (`getconf CLK_TCK`). */
const MS_PER_TICK = 10;

export interface CpuSnapshot {
  atUs: number;
  /** Undefined where there is no /proc (not Linux) or the process is gone. */
  targetMs?: number;
  machineBusyMs?: number;
}

/** A stretch of time in CLOCK_MONOTONIC microseconds. */
export interface MonotonicWindow {
  startUs: number;
  endUs: number;
}

/** CPU used over one or more windows of a run. */
export interface CpuUsage {
  wallMs: number;
  targetMs?: number;
  machineBusyMs?: number;
  windows: MonotonicWindow[];
}

export function snapshotCpu(targetPid: number): CpuSnapshot {
  const targetMs = processCpuMs(targetPid);
  const machineBusyMs = machineBusyCpuMs();
  return {
    atUs: Number(process.hrtime.bigint() / 1000n),
    ...(targetMs !== undefined ? { targetMs } : {}),
    ...(machineBusyMs !== undefined ? { machineBusyMs } : {}),
  };
}

export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuUsage {
  return {
    wallMs: (end.atUs - start.atUs) / 1000,
    ...(start.targetMs !== undefined && end.targetMs !== undefined ? { targetMs: end.targetMs - start.targetMs } : {}),
    ...(start.machineBusyMs !== undefined && end.machineBusyMs !== undefined ? { machineBusyMs: end.machineBusyMs - start.machineBusyMs } : {}),
    windows: [{ startUs: start.atUs, endUs: end.atUs }],
  };
}

export function addCpuUsage(a: CpuUsage, b: CpuUsage): CpuUsage {
  const sum = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? undefined : x + y);
  const targetMs = sum(a.targetMs, b.targetMs);
  const machineBusyMs = sum(a.machineBusyMs, b.machineBusyMs);
  return {
    wallMs: a.wallMs + b.wallMs,
    ...(targetMs !== undefined ? { targetMs } : {}),
    ...(machineBusyMs !== undefined ? { machineBusyMs } : {}),
    windows: [...a.windows, ...b.windows],
  };
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function processCpuMs(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the command name, which is in parentheses and may itself hold spaces:
  // state is field 3, utime field 14, stime field 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) * MS_PER_TICK;
}

/** All cores' non-idle time: the `cpu` line of /proc/stat minus idle and iowait (proc(5)). */
function machineBusyCpuMs(): number | undefined {
  const line = readProc('/proc/stat')?.split('\n', 1)[0];
  if (line === undefined || !line.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal — guest time is already inside user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * MS_PER_TICK;
}
