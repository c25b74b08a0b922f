/**
 * The agent under benchmark: the built `dist/agent/main.js`, run as devices run it, with an
 * agent.json written for the phase, and what /proc and its status file say about it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, watch } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { statusPath, type AgentStatus } from '../../agent/status.js';
import { agentEntry, readAgentStatus } from '../helpers/agent-process.js';

/** SIGTERM gives the agent `shutdownTimeoutMillis` to deliver; past this it is stuck. */
const STOP_DEADLINE_MS = 30_000;

export interface BenchAgent {
  pid: number;
  stateDir: string;
  /** Every structured log line the agent printed so far. */
  logs: Array<Record<string, unknown>>;
  /**
   * The first status.json that `accept`s, or, after `timeoutMs`, the latest one read (undefined
   * if none), for the caller to report what is wrong with it.
   */
  awaitStatus(accept: (status: AgentStatus) => boolean, timeoutMs: number): Promise<AgentStatus | undefined>;
  /** SIGSTOP / SIGCONT: the agent holds still while its broker fills up. */
  pause(): void;
  resume(): void;
  /** SIGTERM (after SIGCONT) and wait for exit; rejects unless it exits 0. */
  stop(): Promise<void>;
  /** SIGKILL, for cleanup after a failure. */
  kill(): void;
}

export interface BenchAgentOptions {
  /** Write a V8 CPU profile (`--cpu-prof`) into this directory when the agent exits. */
  cpuProfileDir?: string;
  /** Node flags before the script, e.g. V8 heap sizes to try against the memory target. */
  nodeFlags?: string[];
  /** Environment variables beyond PATH and HOME, e.g. the systemd unit's (glibc malloc tuning). */
  env?: Record<string, string>;
}

/** Writes `config` as `<stateDir>/agent.json` and starts the agent on it. */
export async function startBenchAgent(config: object, stateDir: string, options: BenchAgentOptions = {}): Promise<BenchAgent> {
  const configFile = join(stateDir, 'agent.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const nodeFlags = [...(options.nodeFlags ?? []), ...(options.cpuProfileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [])];
  const child = spawn(process.execPath, [...nodeFlags, agentEntry, '--config', configFile, '--state-dir', stateDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No AWS credentials from the environment: the collector runs open and the agent sends unsigned.
    env: { ...options.env, PATH: process.env.PATH, HOME: stateDir },
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Read to the end, so a chatty agent never blocks on a full pipe.
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short as the agent exits
    }
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    pid: child.pid!,
    stateDir,
    logs,
    awaitStatus(accept, timeoutMs) {
      // status.json is replaced by a rename (agent/status.ts): watch the directory for it.
      return new Promise((resolve, reject) => {
        let latest: AgentStatus | undefined;
        const watcher = watch(stateDir);
        const finish = (outcome: () => void) => {
          clearTimeout(timer);
          watcher.close();
          outcome();
        };
        const timer = setTimeout(() => finish(() => resolve(latest)), timeoutMs);
        const check = () =>
          void readAgentStatus(stateDir).then(
            (status) => {
              if (status === undefined) return;
              latest = status;
              if (accept(status)) finish(() => resolve(status));
            },
            (error: unknown) => finish(() => reject(error as Error)),
          );
        watcher.on('change', (_type, name) => {
          if (name === basename(statusPath(stateDir))) check();
        });
        watcher.on('error', (error) => finish(() => reject(error)));
        void exited.then(([code, signal]) => finish(() => reject(new Error(`the agent exited (${String(code ?? signal)}) while its status was awaited: ${stderr}`))));
        check();
      });
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      const deadline = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      const [code, signal] = await exited;
      clearTimeout(deadline);
      if (code !== 0) throw new Error(`the agent exited with ${String(code ?? signal)} on SIGTERM: ${stderr}`);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface ResidentMemory {
  /** Peak resident set since the process started (`VmHWM`). */
  peakBytes: number;
  /** Anonymous memory resident now (heaps, buffers): the peak less the file-backed pages, mostly node's own binary. */
  anonymousBytes: number;
}

/** From /proc/<pid>/status (proc(5)); undefined once the process is gone. */
export function residentMemory(pid: number): ResidentMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { peakBytes: kilobytes('VmHWM'), anonymousBytes: kilobytes('RssAnon') };
}

/** The highest anonymous resident set seen over repeated samples: what the agent itself allocates. */
export class AnonymousMemoryPeak {
  bytes = 0;

  constructor(private readonly pid: number) {}

  sample(): void {
    const memory = residentMemory(this.pid);
    if (memory !== undefined && memory.anonymousBytes > this.bytes) this.bytes = memory.anonymousBytes;
  }
}
