/**
 * `riffle-collector device add NAME`: adds an MQTT device to the collector's config file with a
 * fresh random password, stores only its scrypt hash, and prints the password once. The config
 * file is rewritten through a temp file and rename, so a crash leaves the old or the new file.
 * The running collector reads devices at start: restart it to admit the device.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generatePassword, hashPassword, type AclEntry } from './devices.js';

const deviceUsage = `Usage: riffle-collector device add NAME [--config FILE] [--publish PATTERN]... [--subscribe PATTERN]...

Adds an MQTT device to the config file (--config or RIFFLE_CONFIG; created if missing) and prints
its password. Patterns may use %u (the username) and %c (the client id), e.g. --publish 'sensors/%u/#'.
Without patterns the device falls back to mqtt.acl (or may use every topic if that is empty).
`;

export async function runDeviceCommand(argv: string[], env: NodeJS.ProcessEnv, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, publish: { type: 'string', multiple: true }, subscribe: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    err(`riffle-collector device: ${(error as Error).message}\n${deviceUsage}`);
    return 2;
  }
  const [command, name, ...extra] = parsed.positionals;
  if (parsed.values.help || command !== 'add' || name === undefined || extra.length > 0) {
    (parsed.values.help ? out : err)(deviceUsage);
    return parsed.values.help ? 0 : 2;
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    err(`riffle-collector device: the name must be 1–64 of A-Z a-z 0-9 _ . - (it is the MQTT username and fills %u in patterns)\n`);
    return 2;
  }
  const file = parsed.values.config ?? env.RIFFLE_CONFIG;
  if (file === undefined) {
    err('riffle-collector device: which config file? Pass --config FILE (or set RIFFLE_CONFIG)\n');
    return 2;
  }
  let config: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      err(`riffle-collector device: cannot read ${file}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const mqtt = (config.mqtt ?? {}) as Record<string, unknown>;
  const devices = (Array.isArray(mqtt.devices) ? mqtt.devices : []) as Array<Record<string, unknown>>;
  if (devices.some((device) => device.username === name)) {
    err(`riffle-collector device: ${file} already has a device named ${name}\n`);
    return 1;
  }
  const acl: AclEntry[] = [
    ...(parsed.values.publish ?? []).map((pattern) => ({ access: 'write' as const, pattern })),
    ...(parsed.values.subscribe ?? []).map((pattern) => ({ access: 'read' as const, pattern })),
  ];
  const password = generatePassword();
  devices.push({ username: name, passwordHash: await hashPassword(password), ...(acl.length > 0 ? { acl } : {}) });
  config.mqtt = { ...mqtt, devices };
  const temp = `${file}.tmp-${process.pid}`;
  // The file holds password hashes and maybe access keys: keep it private unless it already exists.
  writeFileSync(temp, JSON.stringify(config, null, 2) + '\n', { mode: existsSync(file) ? statSync(file).mode & 0o777 : 0o600 });
  renameSync(temp, file);
  out(`device ${name} added to ${file} (restart the collector to admit it)\nusername: ${name}\npassword: ${password}\n`);
  return 0;
}
