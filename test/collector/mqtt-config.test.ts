/** The collector config's `mqtt` section: defaults, and errors that name the file and key. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../collector/config.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await dir.remove();
});

function load(mqtt: unknown, argv: string[] = []) {
  const file = join(dir.path, 'collector.json');
  writeFileSync(file, JSON.stringify({ mqtt }));
  const result = loadConfig(['--config', file, ...argv], {});
  if (result.help) throw new Error('help');
  return result.config;
}

function refusal(mqtt: unknown, argv: string[] = []): string {
  try {
    load(mqtt, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('mqtt config', () => {
  it('has bounded sessions by default and takes the MQTT TLS port from flag or environment', () => {
    const config = load({});
    expect(config.mqtt).toMatchObject({ tlsPort: 8883, queueLimit: 1000, sessionExpirySeconds: 604800, devices: [], rules: [] });
    expect(load({}, ['--mqtt-tls-port', '0']).mqtt.tlsPort).toBe(0);
    expect(loadConfig(['--mqtt-port', '0'], { RIFFLE_MQTT_TLS_PORT: '18883' })).toMatchObject({ config: { mqttPort: 0, mqtt: { tlsPort: 18883 } } });
  });

  it('names the key that is wrong', () => {
    expect(refusal({ queueLimit: -1 })).toMatch(/key 'mqtt'.queueLimit: must be an integer/);
    expect(refusal({ devices: [{ username: 'd', passwordHash: 'md5:abc' }] })).toMatch(/devices\[0\].passwordHash: must be scrypt/);
    expect(refusal({ devices: [{ username: 'd', passwordHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==', acl: [{ access: 'publish', pattern: 'a/#' }] }] })).toMatch(/devices\[0\].acl\[0\].access: must be read, write or readwrite/);
    expect(refusal({ rules: [{ name: 'r', topicFilter: 'a/+b', actions: [{ republish: { topic: 'x' } }] }] })).toMatch(/rules\[0\].topicFilter: '\+' must be a whole level/);
    expect(refusal({ rules: [{ name: 'r', topicFilter: 'a', actions: [{ republish: { topic: 'x' } }] }, { name: 'r', topicFilter: 'b', actions: [{ republish: { topic: 'y' } }] }] })).toMatch(/rule r is defined twice/);
    expect(refusal({ clientCaFile: '/ca.pem' })).toMatch(/mqtt.clientCaFile: client certificates need the TLS listener/);
    expect(refusal({ retainLimit: 5 })).toMatch(/unknown key 'retainLimit'/);
  });
});
