/**
 * The MQTT phase's publishers (the broker is test/helpers/mosquitto.ts): `mosquitto_pub -l`, a C
 * client, so the publisher costs the shared cores as little as possible and the figure is the
 * agent's, not a JavaScript publisher's.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { mosquittoPubBinary } from '../helpers/mosquitto.js';

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
      mosquittoPubBinary,
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
