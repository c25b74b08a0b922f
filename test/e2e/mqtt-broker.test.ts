/**
 * The collector's embedded MQTT broker, driven by Debian's mosquitto_pub / mosquitto_sub and
 * mqtt.js against the real collector process:
 * - QoS 0, 1 and 2 from mosquitto_pub reach a mosquitto_sub subscriber;
 * - retained messages and wills; MQTT over WebSocket at /mqtt; MQTT over TLS;
 * - an MQTT 5 CONNECT is refused (aedes 1.2 speaks 3.1 and 3.1.1 only);
 * - a persistent session gets what was published while it was offline, across a restart;
 * - the offline queue limit drops and counts; abandoned sessions expire and are counted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { mosquittoMissing, mosquittoPubBinary, runMosquittoClient, startMosquittoSub } from '../helpers/mosquitto.js';
import { readMetric } from '../helpers/metrics.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeThrowawayCertificate } from '../helpers/throwaway-certificate.js';

const skipReason = mosquittoMissing();
if (skipReason) console.warn(`skipping the MQTT broker tests: ${skipReason}`);

let dir: { path: string; remove: () => Promise<void> };
const running: CollectorProcess[] = [];
const clients: MqttClient[] = [];

async function collectorWith(name: string, config: Record<string, unknown> = {}, args: string[] = []): Promise<CollectorProcess> {
  const configFile = join(dir.path, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(config));
  const collector = await startCollector(join(dir.path, name), ['--config', configFile, ...args]);
  running.push(collector);
  return collector;
}

async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  clients.push(client);
  return client;
}

function metric(collector: CollectorProcess, name: string): Promise<number> {
  return readMetric(collector.endpoint, name);
}

function pub(port: number, args: string[]) {
  return runMosquittoClient(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', String(port), ...args]);
}

describe.skipIf(skipReason !== undefined)('embedded MQTT broker', () => {
  beforeAll(async () => {
    dir = await makeTempDir('riffle-mqtt-broker-');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await Promise.all(running.splice(0).map((collector) => collector.stop()));
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('logs the MQTT port it bound when asked for port 0, and carries QoS 0, 1 and 2 from mosquitto_pub to mosquitto_sub', async () => {
    const collector = await collectorWith('qos');
    expect(collector.mqttPort).toBeGreaterThan(0);
    expect(collector.listening.mqtt).toBe(`mqtt://127.0.0.1:${collector.mqttPort}`);
    const sub = await startMosquittoSub(['-h', '127.0.0.1', '-p', String(collector.mqttPort), '-t', 'lab/+/qos', '-q', '2', '-C', '3', '-W', '20', '-v']);
    for (const qos of [0, 1, 2]) {
      const run = await pub(collector.mqttPort, ['-t', `lab/q${qos}/qos`, '-q', String(qos), '-m', `hello at qos ${qos}`]);
      expect(run.code, run.stderr).toBe(0);
    }
    const received = await sub.done;
    expect(received.code, JSON.stringify(received)).toBe(0);
    expect(received.stdout.split('\n').sort()).toEqual(['lab/q0/qos hello at qos 0', 'lab/q1/qos hello at qos 1', 'lab/q2/qos hello at qos 2']);
    expect(await metric(collector, 'mqtt_messages_received_total')).toBe(3);
  });

  it('keeps retained messages for later subscribers and publishes a will when a client vanishes', async () => {
    const collector = await collectorWith('retain-will');
    expect((await pub(collector.mqttPort, ['-t', 'status/door', '-q', '1', '-r', '-m', 'closed'])).code).toBe(0);
    const retained = await runMosquittoClient('/usr/bin/mosquitto_sub', ['-h', '127.0.0.1', '-p', String(collector.mqttPort), '-t', 'status/#', '-C', '1', '-W', '10', '-v']);
    expect(retained.stdout.trim()).toBe('status/door closed');

    const watcher = await connect(`mqtt://127.0.0.1:${collector.mqttPort}`, { clientId: 'will-watcher' });
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    const will = new Promise<string>((resolve) => watcher.on('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
    const doomed = await connect(`mqtt://127.0.0.1:${collector.mqttPort}`, { clientId: 'doomed', will: { topic: 'wills/doomed', payload: Buffer.from('gone'), qos: 1, retain: false } });
    // No DISCONNECT packet: the socket just dies, as when a device loses power.
    doomed.stream.destroy();
    expect(await will).toBe('wills/doomed gone');
  });

  it('speaks MQTT over WebSocket at /mqtt on the API port, and over TLS with a certificate', async () => {
    const { keyPath: key, certPath: cert } = makeThrowawayCertificate(dir.path);
    const plain = await collectorWith('websocket');
    expect(plain.listening.mqttWebSocket).toBe(`ws://127.0.0.1:${plain.port}/mqtt`);
    const overWebSocket = await connect(`ws://127.0.0.1:${plain.port}/mqtt`, { clientId: 'ws-client' });
    await overWebSocket.subscribeAsync('ws/echo', { qos: 1 });
    const echoed = new Promise<string>((resolve) => overWebSocket.on('message', (_topic, payload) => resolve(payload.toString())));
    expect((await pub(plain.mqttPort, ['-t', 'ws/echo', '-q', '1', '-m', 'over the web'])).code).toBe(0);
    expect(await echoed).toBe('over the web');

    const secure = await collectorWith('tls', {}, ['--tls-cert', cert, '--tls-key', key]);
    const tlsPort = Number(new URL(String(secure.listening.mqtts)).port);
    expect(tlsPort).toBeGreaterThan(0);
    const sub = await startMosquittoSub(['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', cert, '-t', 'tls/test', '-q', '1', '-C', '1', '-W', '20']);
    const run = await runMosquittoClient(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', cert, '-t', 'tls/test', '-q', '1', '-m', 'encrypted']);
    expect(run.code, run.stderr).toBe(0);
    expect((await sub.done).stdout.trim()).toBe('encrypted');

    // WebSocket over TLS on the API port: HTTP/1.1 Upgrade through the TLS server's ALPN fallback.
    const overWss = await connect(`wss://127.0.0.1:${secure.port}/mqtt`, { clientId: 'wss-client', ca: readFileSync(cert) });
    await overWss.subscribeAsync('wss/echo', { qos: 1 });
    const secured = new Promise<string>((resolve) => overWss.on('message', (_topic, payload) => resolve(payload.toString())));
    await overWss.publishAsync('wss/echo', 'over wss', { qos: 1 });
    expect(await secured).toBe('over wss');
  });

  it('refuses MQTT 5 clients with "unacceptable protocol version" (aedes 1.2 has no MQTT 5) and counts them', async () => {
    const collector = await collectorWith('v5');
    const refusal = await mqtt.connectAsync(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000 }).then(
      (client) => {
        clients.push(client);
        return undefined;
      },
      (error: Error & { code?: number }) => error,
    );
    expect(refusal).toBeInstanceOf(Error);
    const v311 = await connect(`mqtt://127.0.0.1:${collector.mqttPort}`, { protocolVersion: 4 });
    expect(v311.connected).toBe(true);
    await pollUntil('the refusal to be counted', async () => (await metric(collector, 'mqtt_connections_refused_total{reason="protocol-version"}')) === 1);
  });

  it('delivers to a persistent session what was published while it was offline, across a collector restart', async () => {
    const collector = await collectorWith('persistent');
    const dataDir = join(dir.path, 'persistent');
    const first = await connect(`mqtt://127.0.0.1:${collector.mqttPort}`, { clientId: 'sleepy', clean: false });
    await first.subscribeAsync('inbox/sleepy', { qos: 1 });
    await first.endAsync();
    for (let i = 0; i < 5; i++) expect((await pub(collector.mqttPort, ['-t', 'inbox/sleepy', '-q', '1', '-m', `offline ${i}`])).code).toBe(0);
    expect(await collector.stop()).toBe(0);

    const restarted = await startCollector(dataDir, ['--config', join(dir.path, 'persistent.json')]);
    running.push(restarted);
    const received: string[] = [];
    const again = mqtt.connect(`mqtt://127.0.0.1:${restarted.mqttPort}`, { clientId: 'sleepy', clean: false, reconnectPeriod: 0 });
    clients.push(again);
    again.on('message', (_topic, payload) => received.push(payload.toString()));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => again.once('connect', resolve));
    expect(connack.sessionPresent).toBe(true);
    await pollUntil('the offline messages', () => received.length >= 5, { describe: () => received.join(',') });
    expect(received).toEqual([0, 1, 2, 3, 4].map((i) => `offline ${i}`));
  });

  it('caps what an offline session queues (mqtt.queueLimit) and expires abandoned sessions, counting what they drop', async () => {
    const collector = await collectorWith('limits', { mqtt: { queueLimit: 3, sessionExpirySeconds: 2 } });
    const url = `mqtt://127.0.0.1:${collector.mqttPort}`;
    const away = await connect(url, { clientId: 'away', clean: false });
    await away.subscribeAsync('inbox/away', { qos: 1 });
    await away.endAsync();
    for (let i = 0; i < 10; i++) expect((await pub(collector.mqttPort, ['-t', 'inbox/away', '-q', '1', '-m', `m${i}`])).code).toBe(0);
    expect(await metric(collector, 'mqtt_offline_messages_dropped_total')).toBe(7);

    const received: string[] = [];
    const back = mqtt.connect(url, { clientId: 'away', clean: false, reconnectPeriod: 0 });
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    await new Promise((resolve) => back.once('connect', resolve));
    await pollUntil('the queued messages', () => received.length >= 3, { describe: () => received.join(',') });
    expect(received).toEqual(['m0', 'm1', 'm2']);
    await back.endAsync();

    // Offline again, with one message queued: after 2 s the session and its queue are gone.
    expect((await pub(collector.mqttPort, ['-t', 'inbox/away', '-q', '1', '-m', 'never read'])).code).toBe(0);
    await pollUntil('the session to expire', async () => (await metric(collector, 'mqtt_sessions_expired_total')) === 1, { timeoutMs: 20_000 });
    expect(await metric(collector, 'mqtt_expired_session_messages_dropped_total')).toBe(1);
    const fresh = mqtt.connect(url, { clientId: 'away', clean: false, reconnectPeriod: 0 });
    clients.push(fresh);
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => fresh.once('connect', resolve));
    expect(connack.sessionPresent).toBe(false);
    expect(collector.logs.some((entry) => entry.event === 'mqtt.session-expired' && entry.clientId === 'away')).toBe(true);
  });
});
