#!/usr/bin/env node
/** riffle-collector: loads the config, opens the store, serves the API until SIGTERM/SIGINT. */
import { readFileSync } from 'node:fs';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import { createDispatcher } from './api/dispatcher.js';
import { createAuthenticator } from './auth.js';
import { ConfigError, loadConfig, usage } from './config.js';
import { HostedFunctions } from './consumers/functions/index.js';
import { DeliveryStreams } from './delivery/delivery-streams.js';
import { startMqttBroker, WEBSOCKET_PATH } from './mqtt/broker.js';
import { runDeviceCommand } from './mqtt/device-cli.js';
import { rulesApi } from './mqtt/rules/api.js';
import { deliveryStreamsTarget } from './mqtt/rules/firehose-target.js';
import { startServer } from './server.js';
import { StreamStore } from './store/streams.js';

const log = createLogger('collector');

async function main(): Promise<void> {
  if (process.argv[2] === 'device') {
    process.exitCode = await runDeviceCommand(process.argv.slice(3), process.env, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
    return;
  }
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`riffle-collector: config error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (loaded.help) {
    process.stdout.write(usage);
    return;
  }
  const { config } = loaded;
  let tls: { cert: Buffer; key: Buffer } | undefined;
  let mqttClientCa: Buffer | undefined;
  if (config.tls) {
    try {
      tls = { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) };
      if (config.mqtt.clientCaFile !== undefined) mqttClientCa = readFileSync(config.mqtt.clientCaFile);
    } catch (error) {
      process.stderr.write(`riffle-collector: config error: tls: ${(error as Error).message}\n`);
      process.exit(2);
    }
  }

  const store = await StreamStore.open({
    dataDir: config.dataDir,
    clock: systemClock,
    region: config.region,
    accountId: config.accountId,
    shardLimits: config.shardLimits,
    statusDelayMs: config.statusDelayMs,
    shardLimit: config.shardLimit,
    onDemandStreamCountLimit: config.onDemandStreamCountLimit,
    log,
  });
  store.startBackgroundWork();
  const deliveryStreams = await DeliveryStreams.open({
    dataDir: config.dataDir,
    clock: systemClock,
    region: config.region,
    accountId: config.accountId,
    statusDelayMs: config.statusDelayMs,
    logger: log,
    streamStore: store,
    ...(config.s3 ? { s3: config.s3 } : {}),
  });
  await deliveryStreams.start();
  let mqtt;
  try {
    mqtt = await startMqttBroker({
      dataDir: config.dataDir,
      host: config.host,
      port: config.mqttPort,
      ...(tls ? { tls: { ...tls, port: config.mqtt.tlsPort, ...(mqttClientCa ? { clientCa: mqttClientCa } : {}) } } : {}),
      devices: config.mqtt.devices,
      acl: config.mqtt.acl,
      rules: config.mqtt.rules,
      limits: { queueLimit: config.mqtt.queueLimit, sessionExpiryMs: config.mqtt.sessionExpirySeconds * 1000 },
      store,
      firehose: deliveryStreamsTarget(deliveryStreams),
      clock: systemClock,
      log,
    });
  } catch (error) {
    // e.g. EADDRINUSE: the MQTT port is taken. Nothing half-starts.
    process.stderr.write(`riffle-collector: cannot start MQTT: ${(error as Error).message}\n`);
    await deliveryStreams.close();
    await store.close();
    process.exit(1);
  }
  const functions = await HostedFunctions.open(store, config.functions, { dataDir: config.dataDir, region: config.region, accountId: config.accountId, log });
  functions.start();
  const startedMs = Date.now();
  const server = await startServer({
    host: config.host,
    port: config.port,
    ...(tls ? { tls } : {}),
    dispatcher: createDispatcher(store, deliveryStreams, functions),
    ...(config.accessKeys.length > 0 ? { authenticate: createAuthenticator(config.accessKeys, systemClock, config.accountId) } : {}),
    health: () => ({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedMs) / 1000), streams: store.listStreamNames().length, openShards: store.openShardCount() }),
    metrics: () => store.metrics.render() + deliveryStreams.metrics.render() + mqtt.metrics.render(),
    upgrade: (req, socket, head) => mqtt.handleUpgrade(req, socket, head),
    routes: [rulesApi(mqtt.rules)],
    log,
  });
  const scheme = tls ? 'https' : 'http';
  const hostInUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  log('listening', {
    api: `${scheme}://${hostInUrl}:${server.port}`,
    mqtt: `mqtt://${hostInUrl}:${mqtt.port}`,
    ...(mqtt.tlsPort === undefined ? {} : { mqtts: `mqtts://${hostInUrl}:${mqtt.tlsPort}` }),
    mqttWebSocket: `${tls ? 'wss' : 'ws'}://${hostInUrl}:${server.port}${WEBSOCKET_PATH}`,
    dataDir: config.dataDir,
    auth: config.accessKeys.length > 0 ? 'sigv4' : 'open',
    mqttAuth: [...(config.mqtt.devices.length > 0 ? ['devices'] : []), ...(mqttClientCa ? ['client-certificates'] : [])].join('+') || 'open',
    mqttRules: mqtt.rules.list().length,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('stopping', { signal });
    await server.close();
    await functions.stop();
    await mqtt.close();
    await deliveryStreams.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  log('fatal', { error: String(error), stack: (error as Error).stack });
  process.exit(1);
});
