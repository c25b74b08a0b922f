/**
 * The memory floor under the agent, measured in the same run as the agent: the peak resident set
 * (VmHWM) of node doing nothing, and of node doing only what every agent must — loading
 * zstd-codec and compressing PutRecords-sized bodies with it — under the agent's node flags and
 * environment. The agent's own peak minus the second is what the agent's code and data add.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REQUEST_ZSTD_LEVEL } from '../../shared/aws-client.js';
import { projectRoot } from '../helpers/collector-process.js';

export interface MemoryFloor {
  nodeBytes: number;
  nodeWithZstdBytes: number;
}

/** About one 500-line PutRecords body of the bench's 200-byte lines. */
const BODY_BYTES = 128 * 1024;
const COMPRESSIONS = 200;

const peakScript = `
const { openSync, readFileSync, readSync } = await import('node:fs');
const [zstdModule, sample] = process.argv.slice(1);
if (zstdModule) {
  const { zstdCompress } = await import(zstdModule);
  const body = Buffer.alloc(${BODY_BYTES});
  readSync(openSync(sample, 'r'), body, 0, body.length, 0);
  for (let i = 0; i < ${COMPRESSIONS}; i++) await zstdCompress(body, ${REQUEST_ZSTD_LEVEL});
}
process.stdout.write(/^VmHWM:\\s+(\\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
`;

/** `sample`: a file whose first bytes stand for a request body (the bench's log). */
export async function measureMemoryFloor(sample: string, nodeFlags: readonly string[], env: Record<string, string>): Promise<MemoryFloor> {
  const peak = async (withZstd: boolean): Promise<number> => {
    const zstdModule = withZstd ? join(projectRoot, 'dist', 'shared', 'zstd.js') : '';
    const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, '--input-type=module', '-e', peakScript, zstdModule, sample], { env: { ...process.env, ...env } });
    return Number(stdout) * 1024;
  };
  return { nodeBytes: await peak(false), nodeWithZstdBytes: await peak(true) };
}
