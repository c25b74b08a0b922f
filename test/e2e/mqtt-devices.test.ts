/**
 * MQTT devices and ACLs through the real collector: `riffle-collector device add` writes a scrypt
 * hash (never the password) into the config; mosquitto_pub / mosquitto_sub and mqtt.js connect
 * with and without the right credentials; mosquitto-style `%u` patterns allow and refuse
 * publishes and subscribes; an open broker on a non-loopback address needs --insecure.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorEntry, startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { readMetric } from '../helpers/metrics.js';
import { mosquittoMissing, mosquittoPubBinary, runMosquittoClient, startMosquittoSub } from '../helpers/mosquitto.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const skipReason = mosquittoMissing();
if (skipReason) console.warn(`skipping the MQTT device tests: ${skipReason}`);

const run = promisify(execFile);

async function addDevice(configFile: string, name: string, ...flags: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [collectorEntry, 'device', 'add', name, '--config', configFile, ...flags]);
  const password = /^password: (\S+)$/m.exec(stdout)?.[1];
  if (password === undefined) throw new Error(`no password in: ${stdout}`);
  return password;
}

let dir: { path: string; remove: () => Promise<void> };
let configFile: string;
let collector: CollectorProcess;
const passwords: Record<string, string> = {};

function pub(user: string | undefined, password: string | undefined, topic: string, message: string) {
  const credentials = user === undefined ? [] : ['-u', user, '-P', password ?? ''];
  return runMosquittoClient(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', String(collector.mqttPort), '-i', `pub-${user ?? 'anonymous'}`, ...credentials, '-q', '1', '-t', topic, '-m', message]);
}

describe.skipIf(skipReason !== undefined)('MQTT devices and ACLs', () => {
  beforeAll(async () => {
    dir = await makeTempDir('riffle-mqtt-devices-');
    configFile = join(dir.path, 'collector.json');
    passwords['sensor-1'] = await addDevice(configFile, 'sensor-1', '--publish', 'sensors/%u/#', '--subscribe', 'commands/%u/#');
    passwords['sensor-2'] = await addDevice(configFile, 'sensor-2', '--publish', 'sensors/%u/#');
    passwords.ops = await addDevice(configFile, 'ops');
    collector = await startCollector(join(dir.path, 'data'), ['--config', configFile]);
  });
  afterAll(async () => {
    await collector?.stop();
    await dir.remove();
  });

  it('keeps only scrypt hashes in the config file, and refuses to add a device twice', async () => {
    const text = readFileSync(configFile, 'utf8');
    for (const password of Object.values(passwords)) expect(text).not.toContain(password);
    const config = JSON.parse(text) as { mqtt: { devices: Array<{ username: string; passwordHash: string; acl?: unknown }> } };
    expect(config.mqtt.devices.map((device) => device.username)).toEqual(['sensor-1', 'sensor-2', 'ops']);
    for (const device of config.mqtt.devices) expect(device.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(config.mqtt.devices[0]!.acl).toEqual([
      { access: 'write', pattern: 'sensors/%u/#' },
      { access: 'read', pattern: 'commands/%u/#' },
    ]);
    await expect(addDevice(configFile, 'sensor-1')).rejects.toThrow(/already has a device named sensor-1/);
  });

  it('admits devices with their password and refuses wrong passwords and anonymous clients', async () => {
    expect(collector.listening.mqttAuth).toBe('devices');
    const good = await pub('sensor-1', passwords['sensor-1'], 'sensors/sensor-1/temp', '21.5');
    expect(good.code, good.stderr).toBe(0);
    const wrong = await pub('sensor-1', 'not-the-password', 'sensors/sensor-1/temp', '21.5');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/bad user name or password/i);
    const anonymous = await pub(undefined, undefined, 'sensors/sensor-1/temp', '21.5');
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/not authori[sz]ed/i);
    expect(await readMetric(collector.endpoint, 'mqtt_connections_refused_total{reason="credentials"}')).toBe(2);
    expect(collector.logs.filter((entry) => entry.event === 'mqtt.auth-refused').map((entry) => entry.username)).toEqual(['sensor-1', undefined]);
  });

  it('lets a device publish only under its %u pattern: a denied publish closes the connection, is logged and never delivered', async () => {
    const watcher = await startMosquittoSub(['-h', '127.0.0.1', '-p', String(collector.mqttPort), '-u', 'ops', '-P', passwords.ops!, '-t', 'sensors/#', '-q', '1', '-v', '-C', '1', '-W', '20']);
    const denied = await pub('sensor-1', passwords['sensor-1'], 'sensors/sensor-2/temp', 'spoofed');
    expect(denied.code).not.toBe(0);
    const allowed = await pub('sensor-2', passwords['sensor-2'], 'sensors/sensor-2/temp', 'genuine');
    expect(allowed.code, allowed.stderr).toBe(0);
    // -C 1: the watcher ends with the first message it gets, which must be the genuine one.
    expect((await watcher.done).stdout.trim()).toBe('sensors/sensor-2/temp genuine');
    expect(await readMetric(collector.endpoint, 'mqtt_publish_denied_total')).toBe(1);
    expect(collector.logs.find((entry) => entry.event === 'mqtt.publish-denied')).toMatchObject({ username: 'sensor-1', topic: 'sensors/sensor-2/temp' });
  });

  it('refuses subscriptions outside the pattern with SUBACK 0x80 and logs them', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { username: 'sensor-1', password: passwords['sensor-1'], reconnectPeriod: 0 });
    try {
      // mqtt.js rejects a SUBACK holding a failure code and hands over the packet.
      const refusal = await client.subscribeAsync({ 'commands/sensor-1/#': { qos: 1 }, 'commands/sensor-2/#': { qos: 1 }, 'commands/#': { qos: 1 } }).then(
        () => undefined,
        (error: Error & { packet?: { granted?: number[] } }) => error,
      );
      expect(refusal?.packet?.granted).toEqual([1, 128, 128]);
    } finally {
      await client.endAsync();
    }
    await pollUntil('the refusals to be counted', async () => (await readMetric(collector.endpoint, 'mqtt_subscribe_denied_total')) === 2);
    expect(collector.logs.filter((entry) => entry.event === 'mqtt.subscribe-denied').map((entry) => entry.topic)).toEqual(['commands/sensor-2/#', 'commands/#']);
  });

  it('refuses to run an open broker on a non-loopback address unless --insecure, and plain-text passwords in the config', async () => {
    const keysOnly = join(dir.path, 'keys-only.json');
    writeFileSync(keysOnly, JSON.stringify({ accessKeys: [{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }] }));
    await expect(startCollector(join(dir.path, 'open'), ['--config', keysOnly, '--host', '0.0.0.0'])).rejects.toThrow(/mqtt\.devices: 0\.0\.0\.0 is not a loopback address and no MQTT devices/);
    const insecure = await startCollector(join(dir.path, 'insecure'), ['--config', keysOnly, '--host', '0.0.0.0', '--insecure']);
    expect(insecure.listening.mqttAuth).toBe('open');
    await insecure.stop();

    const plain = join(dir.path, 'plain.json');
    writeFileSync(plain, JSON.stringify({ mqtt: { devices: [{ username: 'lazy', password: 'hunter2' }] } }));
    await expect(startCollector(join(dir.path, 'plain'), ['--config', plain])).rejects.toThrow(/plain-text passwords are not accepted/);
  });

  it('admits devices by client certificate on the TLS listener, as their certificate CN, under the ACL patterns', async () => {
    const file = (name: string) => join(dir.path, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    const selfSigned = (name: string, cn: string) => openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1');
    selfSigned('server', 'localhost');
    selfSigned('ca', 'riffle-test-device-ca');
    // A device certificate signed by the CA, and a look-alike signed by nobody.
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('device.key'), '-out', file('device.csr'), '-subj', '/CN=cert-sensor');
    openssl('x509', '-req', '-in', file('device.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('device.pem'), '-days', '1');
    selfSigned('rogue', 'cert-sensor');
    const config = file('certificates.json');
    writeFileSync(config, JSON.stringify({ mqtt: { clientCaFile: file('ca.pem'), acl: [{ access: 'write', pattern: 'sensors/%u/#' }] } }));
    const secure = await startCollector(join(dir.path, 'certificates'), ['--config', config, '--tls-cert', file('server.pem'), '--tls-key', file('server.key')]);
    try {
      expect(secure.listening.mqttAuth).toBe('client-certificates');
      const tlsPort = String(new URL(String(secure.listening.mqtts)).port);
      const pubAs = (certificate: string, topic: string) =>
        runMosquittoClient(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', tlsPort, '--cafile', file('server.pem'), '--cert', file(`${certificate}.pem`), '--key', file(`${certificate}.key`), '-q', '1', '-t', topic, '-m', 'x']);
      const admitted = await pubAs('device', 'sensors/cert-sensor/temp');
      expect(admitted.code, admitted.stderr).toBe(0);
      expect((await pubAs('device', 'sensors/someone-else/temp')).code).not.toBe(0);
      const rogue = await pubAs('rogue', 'sensors/cert-sensor/temp');
      expect(rogue.code).not.toBe(0);
      expect(rogue.stderr).toMatch(/not authori[sz]ed/i);
      const plain = await runMosquittoClient(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', String(secure.mqttPort), '-q', '1', '-t', 'sensors/cert-sensor/temp', '-m', 'x']);
      expect(plain.code).not.toBe(0);
      expect(secure.logs.find((entry) => entry.event === 'mqtt.publish-denied')).toMatchObject({ username: 'cert-sensor', topic: 'sensors/someone-else/temp' });
    } finally {
      await secure.stop();
    }
  });
});
