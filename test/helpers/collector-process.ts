/**
 * Starts the real collector (the built `dist/collector/main.js` under its systemd unit's node
 * flags, as appliances run it) on a random port with a temp data dir, and waits for its
 * `listening` log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { signalControls } from './child-signals.js';
import { projectRoot } from './project-root.js';
import { unitNodeFlags } from './systemd-unit.js';

export { projectRoot };
export const collectorEntry = join(projectRoot, 'dist', 'collector', 'main.js');
/** The collector runs with the node flags of its systemd unit, as appliances run it. */
const collectorNodeFlags = unitNodeFlags('riffle-collector');

export interface CollectorProcess {
  child: ChildProcess;
  port: number;
  endpoint: string;
  /** The embedded MQTT broker's TCP port (`--mqtt-port 0` unless the test chose one). */
  mqttPort: number;
  /** The listening log line: api, mqtt, mqtts, mqttWebSocket URLs. */
  listening: Record<string, unknown>;
  /** Every structured log line the process printed so far. */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit: no chance to flush anything. */
  kill(): Promise<number | null>;
}

export async function startCollector(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CollectorProcess> {
  if (!existsSync(collectorEntry)) throw new Error(`${collectorEntry} is missing: run \`npm run build\` first (npm test does)`);
  // Random MQTT ports too (flags given later in extraArgs win), so parallel tests never collide on 1883/8883.
  const child = spawn(process.execPath, [...collectorNodeFlags, collectorEntry, '--port', '0', '--mqtt-port', '0', '--mqtt-tls-port', '0', '--data-dir', dataDir, '--status-delay-ms', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.event === 'listening') resolve(entry);
    });
    void exited.then((code) => reject(new Error(`collector exited with ${code} before listening: ${stderr}`)));
  });
  const port = Number(new URL(String(listening.api)).port);
  return {
    child,
    port,
    mqttPort: Number(new URL(String(listening.mqtt)).port),
    listening,
    endpoint: `http://127.0.0.1:${port}`,
    logs,
    stderr: () => stderr,
    ...signalControls(child, exited),
  };
}
