/**
 * The three servers the ingest benchmark measures, each in its own process with its own temp
 * data dir: Riffle (the built collector), kinesalite (LevelDB on disk), and the bare `node:http`
 * ceiling.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../helpers/temp-dir.js';

export type TargetKind = 'riffle' | 'kinesalite' | 'bare';
export const targetKinds: readonly TargetKind[] = ['riffle', 'kinesalite', 'bare'];

export interface BenchTarget {
  kind: TargetKind;
  label: string;
  endpoint: string;
  pid: number;
  /** Whether it has streams at all: the bare ceiling only answers PutRecords. */
  hasStreams: boolean;
  /** SIGSTOP / SIGCONT: a target not under load must not run its background work in another's window. */
  pause(): void;
  resume(): void;
  /** Stops the process and deletes its data. */
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Riffle only: write a V8 CPU profile (`--cpu-prof`) into this directory on exit. */
  cpuProfileDir?: string;
}

/** A target that has not said where it listens by then is stuck (the collector opens its store first). */
const STARTUP_DEADLINE_MS = 30_000;

const benchDir = dirname(fileURLToPath(import.meta.url));
/** The built collector beside this built file (test/helpers' `collectorEntry` is right only from the sources). */
const collectorEntry = fileURLToPath(new URL('../../collector/main.js', import.meta.url));

export async function startBenchTarget(kind: TargetKind, options: TargetOptions = {}): Promise<BenchTarget> {
  const dataDir = await makeTempDir(`riffle-bench-${kind}-`);
  try {
    switch (kind) {
      case 'riffle': {
        // Started here rather than with test/helpers' startCollector because a profile needs
        // node flags before the script, and NODE_OPTIONS refuses --cpu-prof.
        const nodeFlags = options.cpuProfileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
        // Per-shard limits off: the load is 4 × 500 records per round trip on 4 shards, far past Kinesis' 1,000 records/s per shard.
        const args = ['--port', '0', '--data-dir', dataDir.path, '--status-delay-ms', '0', '--shard-limits', 'off'];
        return await startTargetProcess(kind, 'Riffle (fsync)', [...nodeFlags, collectorEntry, ...args], dataDir.remove);
      }
      case 'kinesalite':
        return await startTargetProcess(kind, 'kinesalite (LevelDB, no fsync)', [join(benchDir, 'kinesalite-server.js'), dataDir.path], dataDir.remove);
      case 'bare':
        return await startTargetProcess(kind, 'bare node:http ceiling', [join(benchDir, 'bare-server.js')], dataDir.remove);
    }
  } catch (error) {
    await dataDir.remove();
    throw error;
  }
}

/**
 * Starts `node nodeArgs…` and waits for the `{"event":"listening","api":URL}` line the collector
 * logs (and the bench's own servers imitate). Stdout is read to the end so a chatty target never
 * blocks on a full pipe.
 */
async function startTargetProcess(kind: TargetKind, label: string, nodeArgs: string[], removeData: () => Promise<void>): Promise<BenchTarget> {
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const endpoint = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not report listening within ${STARTUP_DEADLINE_MS} ms: ${stderr}`));
    }, STARTUP_DEADLINE_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { event?: string; api?: string };
      if (entry.event === 'listening' && entry.api !== undefined) {
        clearTimeout(deadline);
        resolve(entry.api);
      }
    });
    void exited.then(([code]) => {
      clearTimeout(deadline);
      reject(new Error(`${label} exited with ${String(code)} before listening: ${stderr}`));
    });
  });
  return {
    kind,
    label,
    endpoint,
    pid: child.pid!,
    hasStreams: kind !== 'bare',
    pause() {
      if (child.exitCode === null) child.kill('SIGSTOP');
    },
    resume() {
      if (child.exitCode === null) child.kill('SIGCONT');
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      const [code, signal] = await exited;
      await removeData();
      // Only the collector handles SIGTERM (and must exit cleanly, which also writes its profile); the others just die of it.
      if (kind === 'riffle' && code !== 0) throw new Error(`${label} exited with ${String(code ?? signal)} on SIGTERM: ${stderr}`);
    },
  };
}
