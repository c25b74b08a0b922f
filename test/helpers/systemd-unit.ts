/**
 * What hardware/systemd's units run, read from the unit files themselves, so tests and benchmarks
 * start the agent and the collector as devices and appliances do: the node flags of `ExecStart`
 * and the `Environment=` pairs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './project-root.js';

export type RiffleUnit = 'riffle-agent' | 'riffle-collector';

function unitText(unit: RiffleUnit): string {
  return readFileSync(join(projectRoot, 'hardware', 'systemd', `${unit}.service`), 'utf8');
}

/** The node flags of `ExecStart=/usr/bin/node FLAGS …/<agent|collector>/main.js`. */
export function unitNodeFlags(unit: RiffleUnit): string[] {
  const entry = unit === 'riffle-agent' ? 'agent' : 'collector';
  const execStart = new RegExp(`^ExecStart=\\S*node((?: --\\S+)*) \\S+/${entry}/main\\.js`, 'm').exec(unitText(unit));
  if (!execStart) throw new Error(`hardware/systemd/${unit}.service: no ExecStart running node on ${entry}/main.js`);
  return execStart[1]!.split(' ').filter((flag) => flag !== '');
}

/** The unit's `Environment=NAME=VALUE NAME=VALUE` lines (unquoted), as one space-separated string. */
export function unitEnvironment(unit: RiffleUnit): string {
  return [...unitText(unit).matchAll(/^Environment=(.*)$/gm)].map((line) => line[1]!.trim()).join(' ');
}
