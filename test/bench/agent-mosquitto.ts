/**
 * The MQTT phase's device-local broker and publisher: Debian's mosquitto (`/usr/sbin/mosquitto`)
 * on a free loopback port, and `mosquitto_pub -l`, a C client, so the publisher costs the shared
 * cores as little as possible and the figure is the agent's, not a JavaScript publisher's.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PUB = 'mosquitto_pub';
const STARTUP_DEADLINE_MS = 10_000;

export interface Mosquitto {
  url: string;
  port: number;
  pid: number;
  /** Resolves with the first log line, past or future, that `matches`. */
  waitForLog(matches: (line: string) => boolean, deadlineMs: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts mosquitto with a config in `dir`; its log, subscriptions included, is read from stderr. */
export async function startMosquitto(dir: string): Promise<Mosquitto> {
  const port = await freeLoopbackPort();
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // No broker-side cap on QoS 1 messages in flight or queued: the agent's Receive Maximum is the limit measured.
      'max_inflight_messages 0',
      'max_queued_messages 1000000',
      // stderr, not stdout: mosquitto's stdout is block-buffered when it is a pipe.
      'log_dest stderr',
      'log_timestamp false',
      ...['error', 'warning', 'notice', 'information', 'subscribe'].map((type) => `log_type ${type}`),
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ matches: (line: string) => boolean; resolve: (line: string) => void }> = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.matches(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const waitForLog = (matches: (line: string) => boolean, deadlineMs: number) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find(matches);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`mosquitto did not log the expected line within ${deadlineMs} ms; its log:\n${lines.join('\n')}`)), deadlineMs);
      waiters.push({
        matches,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`mosquitto exited with ${String(code)}: ${lines.join('\n')}`));
      });
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForLog((line) => / running$/.test(line), STARTUP_DEADLINE_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid!, waitForLog, stop };
}

/**
 * mosquitto needs its port in the config, so one is asked of the kernel and released again;
 * another process could take it in between, and mosquitto would then fail to start, loudly.
 */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address for the probe socket');
  return address.port;
}

/**
 * Messages per mosquitto_pub process. mosquitto_pub 2.0.11 in `-l` mode disconnects as soon as
 * the PUBACK for the message id of its last message arrives; message ids are 16-bit and wrap
 * (MQTT 3.1.1 §2.3.1), so past 65,535 messages an early PUBACK with that id ends the run and
 * the rest are lost (the broker logs a bogus "out of memory"). Below the wrap, ids are unique.
 */
export const MAX_MESSAGES_PER_PUBLISHER = 60_000;

export interface PublishPlan {
  port: number;
  topic: string;
  /** One file per publisher, at most MAX_MESSAGES_PER_PUBLISHER lines each; one message per line (mosquitto_pub drops the newline). */
  messageFiles: string[];
  qos: 0 | 1 | 2;
  /** QoS 1/2 messages each publisher keeps in flight (its `-M`). */
  maxInflight: number;
}

/** Runs one `mosquitto_pub -l` per file, all at once, and resolves once every one exited 0. */
export async function publishLines(plan: PublishPlan): Promise<void> {
  await Promise.all(plan.messageFiles.map((file, index) => publishFile(plan, file, `riffle-bench-publisher-${index}`)));
}

async function publishFile(plan: PublishPlan, file: string, clientId: string): Promise<void> {
  const input = openSync(file, 'r');
  try {
    const child = spawn(
      MOSQUITTO_PUB,
      ['-h', '127.0.0.1', '-p', String(plan.port), '-t', plan.topic, '-q', String(plan.qos), '-M', String(plan.maxInflight), '-i', clientId, '-l'],
      { stdio: [input, 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`mosquitto_pub (${clientId}) exited with ${String(code ?? signal)}: ${stderr}`);
  } finally {
    closeSync(input);
  }
}
