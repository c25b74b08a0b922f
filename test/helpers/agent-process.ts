/**
 * Runs the real agent (the built `dist/agent/main.js`, as devices run it) as a child process:
 * start it with a config and a state dir, watch its JSON log lines and its status file, stop it
 * with SIGTERM or kill it with SIGKILL. Waits poll observable state (see poll.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { statusPath, type AgentStatus } from '../../agent/status.js';
import { projectRoot } from './collector-process.js';
import { pollUntil } from './poll.js';
import { signalControls } from './child-signals.js';

export const agentEntry = join(projectRoot, 'dist', 'agent', 'main.js');

/** Credentials for a collector without access keys (it checks the signature's form, not the key). */
const testCredentials = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'dummy-secret', AWS_REGION: 'us-east-1' };

export type LogEntry = Record<string, unknown> & { event?: string };

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AgentProcess {
  child: ChildProcess;
  stateDir: string;
  /** Every structured log line the process printed so far. */
  logs: LogEntry[];
  stderr(): string;
  exited: Promise<AgentExit>;
  /** The `nth` (default first) log line, already printed or to come, with this event that `matches`. */
  waitForLog(event: string, matches?: (entry: LogEntry) => boolean, timeoutMs?: number, nth?: number): Promise<LogEntry>;
  /** The status file as last written, or undefined before the first write. */
  status(): Promise<AgentStatus | undefined>;
  /** Polls the status file (written every few seconds) until `holds`. */
  waitForStatus(what: string, holds: (status: AgentStatus) => boolean, timeoutMs?: number): Promise<AgentStatus>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<AgentExit>;
  /** SIGKILL and wait for the exit: no chance to flush anything. */
  kill(): Promise<AgentExit>;
}

export interface StartAgentOptions {
  configFile: string;
  stateDir: string;
  env?: NodeJS.ProcessEnv;
}

export async function writeAgentConfig(file: string, config: Record<string, unknown>): Promise<string> {
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** Starts the agent and resolves once it logged `started`; rejects if it exits first. */
export async function startAgent(options: StartAgentOptions): Promise<AgentProcess> {
  const agent = spawnAgent(options);
  const early = agent.exited.then((exit) => {
    const lastLogs = agent.logs.slice(-3).map((entry) => JSON.stringify(entry));
    throw new Error(`agent exited (${exit.code ?? exit.signal}) before it started: ${agent.stderr()}${lastLogs.join('\n')}`);
  });
  try {
    await Promise.race([agent.waitForLog('started'), early]);
  } catch (error) {
    await agent.kill();
    throw error;
  }
  return agent;
}

function spawnAgent(options: StartAgentOptions): AgentProcess {
  if (!existsSync(agentEntry)) throw new Error(`${agentEntry} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [agentEntry, '--config', options.configFile, '--state-dir', options.stateDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...testCredentials, ...options.env },
  });
  const logs: LogEntry[] = [];
  const logWaiters = new Set<(entry: LogEntry) => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close', not 'exit': by then every line the process printed has been read.
  const exited = new Promise<AgentExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      return;
    }
    logs.push(entry);
    for (const waiter of logWaiters) waiter(entry);
  });
  const readStatus = () => readAgentStatus(options.stateDir);
  const agent: AgentProcess = {
    child,
    stateDir: options.stateDir,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(event, matches = () => true, timeoutMs = 15_000, nth = 1) {
      const isMatch = (entry: LogEntry) => entry.event === event && matches(entry);
      let seen = 0;
      for (const entry of logs) if (isMatch(entry) && ++seen === nth) return Promise.resolve(entry);
      return new Promise<LogEntry>((resolve, reject) => {
        const timer = setTimeout(() => {
          logWaiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for the agent to log ${event} (${nth > 1 ? `occurrence ${nth}, ` : ''}${seen} seen); stderr: ${stderr}`));
        }, timeoutMs);
        const waiter = (entry: LogEntry) => {
          if (!isMatch(entry) || ++seen < nth) return;
          clearTimeout(timer);
          logWaiters.delete(waiter);
          resolve(entry);
        };
        logWaiters.add(waiter);
      });
    },
    status: readStatus,
    async waitForStatus(what, holds, timeoutMs = 20_000) {
      let last: AgentStatus | undefined;
      return pollUntil(
        `agent status: ${what}`,
        async () => {
          last = await readStatus();
          return last !== undefined && holds(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 200, describe: () => JSON.stringify(last) },
      );
    },
    ...signalControls(child, exited),
  };
  return agent;
}

/** The agent's status file as last written (it is replaced by a rename, never half-written), or undefined before the first write. */
export async function readAgentStatus(stateDir: string): Promise<AgentStatus | undefined> {
  try {
    return JSON.parse(await readFile(statusPath(stateDir), 'utf8')) as AgentStatus;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Runs the agent to its exit (a subcommand, or a start that must fail) and returns its output. */
export async function runAgent(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<AgentExit & { stdout: string; stderr: string }> {
  if (!existsSync(agentEntry)) throw new Error(`${agentEntry} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [agentEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...testCredentials, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<AgentExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  clearTimeout(timer);
  return { ...exit, stdout, stderr };
}
