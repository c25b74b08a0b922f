/**
 * A consumer-library worker in its own process (the compiled `dist/test/helpers/consumer-worker-main.js`),
 * as applications run it: its processor appends every record it is given to `outFile`
 * (`shardId \t sequenceNumber \t subSequenceNumber \t data` per line; `shardId \t LEASE_START`
 * when it starts on a shard) and checkpoints after each batch; SIGTERM shuts it down gracefully.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from './collector-process.js';
import { signalControls } from './child-signals.js';

export interface WorkerProcessConfig {
  endpoint: string;
  applicationName: string;
  streamName: string;
  workerId: string;
  outFile: string;
  leaseDurationMs: number;
  pollIntervalMs: number;
  readMode: 'polling' | 'fan-out';
  /** Checkpoint after every user record (with its subSequenceNumber) and SIGKILL itself right after the one with this data. */
  dieAfter?: string;
}

/** The sequence-number column of the line a processor writes when it starts on a shard. */
export const LEASE_START = 'LEASE_START';

export interface ProcessedLine {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  data: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** SIGTERM (graceful shutdown) and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown, no final checkpoint. */
  kill(): Promise<number | null>;
  /** Resolves when the process has exited (on its own or not). */
  exited: Promise<number | null>;
}

const workerEntry = join(projectRoot, 'dist', 'test', 'helpers', 'consumer-worker-main.js');

/** `env` is added to this process's environment, e.g. the `AWS_*` credentials the worker finds there. */
export async function startWorkerProcess(config: WorkerProcessConfig, env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  if (!existsSync(workerEntry)) throw new Error(`${workerEntry} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [workerEntry, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.event === 'started') resolve();
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code} before starting: ${stderr}`)));
  });
  return {
    child,
    logs,
    exited,
    ...signalControls(child, exited),
  };
}

export function readProcessed(outFile: string): ProcessedLine[] {
  if (!existsSync(outFile)) return [];
  return readFileSync(outFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [shardId, sequenceNumber, subSequenceNumber, data] = line.split('\t') as [string, string, string, string];
      return { shardId, sequenceNumber, subSequenceNumber: Number(subSequenceNumber), data };
    });
}
