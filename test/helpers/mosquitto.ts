/**
 * Debian's mosquitto as the device-local MQTT broker of the agent's end-to-end tests: started on
 * a free loopback port with a temp config, in memory only, and `mosquitto_pub` to publish.
 * CI installs the `mosquitto` and `mosquitto-clients` packages; elsewhere the MQTT tests skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startOnFreePort } from './free-port.js';
import { pollUntil } from './poll.js';

export const mosquittoBinary = '/usr/sbin/mosquitto';
export const mosquittoPubBinary = '/usr/bin/mosquitto_pub';
export const mosquittoSubBinary = '/usr/bin/mosquitto_sub';

/** Why the MQTT tests cannot run here, or undefined when they can. */
export function mosquittoMissing(): string | undefined {
  const missing = [mosquittoBinary, mosquittoPubBinary, mosquittoSubBinary].filter((path) => !existsSync(path));
  return missing.length === 0 ? undefined : `${missing.join(' and ')} not installed (apt-get install mosquitto mosquitto-clients)`;
}

export interface Mosquitto {
  port: number;
  url: string;
  pid: number;
  /** The broker's log lines so far. */
  logs: string[];
  /** Resolves once the broker logged that `clientId` subscribed to `topicFilter` (needs `log_type subscribe`). */
  waitForSubscription(clientId: string, topicFilter: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** mosquitto's `max_queued_messages` per client (default 100,000); a benchmark that holds its subscriber still queues more. */
  maxQueuedMessages?: number;
}

export async function startMosquitto(dir: string, options: MosquittoOptions = {}): Promise<Mosquitto> {
  return startOnFreePort('mosquitto', (port) => startOnPort(dir, port, options.maxQueuedMessages ?? 100_000));
}

async function startOnPort(dir: string, port: number, maxQueuedMessages: number): Promise<Mosquitto> {
  const configFile = join(dir, `mosquitto-${port}.conf`);
  await writeFile(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // No limit on QoS 1/2 messages in flight or queued per client: the agent's Receive Maximum bounds them.
      'max_inflight_messages 0',
      `max_queued_messages ${maxQueuedMessages}`,
      // stderr: unbuffered, so each line reaches the test as it is logged (stdout to a pipe is block-buffered).
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_type subscribe',
      '',
    ].join('\n'),
  );
  const child = spawn(mosquittoBinary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const collect = (line: string) => logs.push(line);
  createInterface({ input: child.stdout! }).on('line', collect);
  createInterface({ input: child.stderr! }).on('line', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await pollUntil(`mosquitto to accept connections on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${logs.join('\n')}`);
      return canConnect(port);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid!,
    logs,
    async waitForSubscription(clientId, topicFilter, timeoutMs = 15_000) {
      // mosquitto 2 logs a subscription as "<time>: <client id> <qos> <topic filter>".
      const pattern = new RegExp(`^\\d+: ${escapeRegExp(clientId)} \\d ${escapeRegExp(topicFilter)}$`);
      await pollUntil(`${clientId} to subscribe to ${topicFilter}`, () => logs.some((line) => pattern.test(line)), {
        timeoutMs,
        describe: () => logs.slice(-10).join(' | '),
      });
    },
    stop,
  };
}

/** Publishes each message to `topic` with one `mosquitto_pub -l` (a line of stdin per message). */
export async function publishLines(port: number, topic: string, messages: readonly string[], qos: 0 | 1 | 2 = 1): Promise<void> {
  if (messages.some((message) => message.includes('\n'))) throw new Error('mosquitto_pub -l publishes one message per line: messages must not contain newlines');
  const child: ChildProcess = spawn(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', String(port), '-q', String(qos), '-t', topic, '-l'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdin!.end(messages.map((message) => `${message}\n`).join(''));
  const code = await exited;
  if (code !== 0) throw new Error(`mosquitto_pub to ${topic} exited with ${code}: ${stderr}`);
}

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mosquitto_pub` or `mosquitto_sub` to completion (give mosquitto_sub `-C N` and/or `-W
 * seconds` so it ends) and returns its exit code and output.
 */
export async function runMosquittoClient(binary: typeof mosquittoPubBinary | typeof mosquittoSubBinary, args: readonly string[], stdin = ''): Promise<ClientRun> {
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A client that exits early (refused connection, bad arguments) closes its stdin: the EPIPE is
  // no news, its exit code and stderr tell what happened.
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(stdin);
  const code = await exited;
  return { code, stdout, stderr };
}

/**
 * Starts `mosquitto_sub` and resolves once the broker has granted its subscription (`-d` prints
 * the SUBACK), so what is published next reaches it. `done` resolves with the whole run.
 */
export async function startMosquittoSub(args: readonly string[]): Promise<{ done: Promise<ClientRun> }> {
  // stdbuf -oL: mosquitto_sub's stdout to a pipe is block-buffered and its debug lines would only
  // show up with the first message; line buffering shows the SUBACK as it happens.
  const child = spawn('stdbuf', ['-oL', mosquittoSubBinary, '-d', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const subscribed = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('received SUBACK')) resolve();
    });
    void exited.then((code) => reject(new Error(`mosquitto_sub exited with ${code} before subscribing: ${stdout} ${stderr}`)));
  });
  await subscribed;
  // -d also prints the protocol exchange; the messages are the lines that are not debug output.
  const messages = () => stdout.split('\n').filter((line) => line !== '' && !/^Client \S+ (sending|received) [A-Z]+/.test(line) && !line.startsWith('Subscribed (mid'));
  return { done: exited.then((code) => ({ code, stdout: messages().join('\n'), stderr })) };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
