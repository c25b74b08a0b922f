/**
 * `riffle-agent status`: the running agent writes `<state-dir>/status.json` every few seconds
 * (atomically: temp file + rename); the status command reads and prints it. No socket to secure,
 * and it works when the agent is stuck.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowStatus } from './pipeline.js';

export interface AgentStatus {
  writtenAtMs: number;
  pid: number;
  startedAtMs: number;
  flows: Array<FlowStatus & { source: unknown }>;
}

export function statusPath(stateDir: string): string {
  return join(stateDir, 'status.json');
}

export async function writeStatus(stateDir: string, status: AgentStatus): Promise<void> {
  const path = statusPath(stateDir);
  await writeFile(`${path}.tmp`, JSON.stringify(status, null, 2));
  await rename(`${path}.tmp`, path);
}

export async function printStatus(stateDir: string, nowMs: number, write: (text: string) => void): Promise<number> {
  let status: AgentStatus;
  try {
    status = JSON.parse(await readFile(statusPath(stateDir), 'utf8')) as AgentStatus;
  } catch (error) {
    write(`riffle-agent: no status in ${stateDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is the agent running with --state-dir ${stateDir}?\n`);
    return 1;
  }
  const age = Math.round((nowMs - status.writtenAtMs) / 1000);
  write(`riffle-agent pid ${status.pid}, status written ${age} s ago${age > 30 ? ' (stale: is the agent running?)' : ''}\n`);
  for (const flow of status.flows) {
    write(`\nflow ${flow.id} → ${flow.target}\n`);
    write(`  records: in ${flow.recordsIn}, sent ${flow.recordsSent}, failed ${flow.recordsFailed}, dropped ${flow.recordsDropped}, not parsed ${flow.parseFailures}, retried ${flow.retries}\n`);
    write(`  queue: ${flow.queuedBatches} batches in memory, ${flow.sending} sending, spool ${flow.spoolBytes} bytes\n`);
    if (flow.lastError) write(`  last error: ${flow.lastError.code} ${flow.lastError.message} (${new Date(flow.lastError.atMs).toISOString()})\n`);
    write(`  source: ${JSON.stringify(flow.source)}\n`);
  }
  return 0;
}
