/**
 * The collector's embedded MQTT broker: aedes 1.2 over aedes-persistence-level in
 * `<data-dir>/mqtt`, listening on TCP, on TLS when the collector has a certificate, and as MQTT over
 * WebSocket at `/mqtt` on the collector's HTTP port (server.ts hands the upgrade over).
 *
 * Protocol support is aedes 1.2's: MQTT 3.1 and 3.1.1 with QoS 0/1/2, retained messages, wills and
 * persistent sessions. aedes 1.2 does not speak MQTT 5 (its README: "not support yet"): a v5 CONNECT
 * is answered with return code 1, unacceptable protocol version, and counted as refused.
 *
 * The publish path, in the order aedes runs it:
 *   authenticate (device credentials) → authorizePublish: ACL → QoS 2 duplicate check → topic rules
 *   (resolves once every action's target durably has the message) → aedes stores/forwards → PUBACK
 *   (QoS 1) or PUBREC (QoS 2).
 * So an acknowledged message is in every rule target; a message whose targets are slow stays
 * unacknowledged, and the device's in-flight window bounds how much backs up.
 *
 * Persistence: aedes-persistence-level writes without fsync, so sessions and queues survive a
 * collector crash or restart (the data is in the OS) but not a power cut at the wrong moment;
 * what rules put into streams is fsync'd by the stream store before the acknowledgement.
 */
import { createServer as createTcpServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import { Level } from 'level';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { StreamStore } from '../store/streams.js';
import { AccessControl, type AclEntry, type DeviceConfig } from './devices.js';
import { MqttMetrics } from './metrics.js';
import { EngineClosedError, RuleEngine } from './rules/engine.js';
import type { TopicRule } from './rules/rule.js';
import { RuleTargets, type FirehoseTarget } from './rules/targets.js';
import { SessionKeeper, type SessionLimits } from './sessions.js';

export interface MqttOptions {
  dataDir: string;
  host: string;
  port: number;
  /** With a certificate: the MQTT over TLS port; with `clientCa`, client certificates signed by it identify devices. */
  tls?: { cert: Buffer; key: Buffer; port: number; clientCa?: Buffer };
  devices: DeviceConfig[];
  acl: AclEntry[];
  rules: TopicRule[];
  limits: SessionLimits;
  store: StreamStore;
  /** Firehose delivery for rules' firehose actions; main.ts wires it once the collector has Firehose. */
  firehose?: FirehoseTarget;
  clock: Clock;
  log: Logger;
}

export interface MqttBroker {
  port: number;
  tlsPort?: number;
  metrics: MqttMetrics;
  rules: RuleEngine;
  /** Takes an HTTP upgrade request for `/mqtt`; false if it is not one. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

export const WEBSOCKET_PATH = '/mqtt';

// MQTT 3.1.1 CONNACK return codes (§3.2.2.3).
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/** How often abandoned sessions are looked for: a tenth of the expiry, between 1 s and 1 min. */
function sweepIntervalMs(expiryMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(expiryMs / 10)));
}

export async function startMqttBroker(options: MqttOptions): Promise<MqttBroker> {
  const { log, clock } = options;
  const metrics = new MqttMetrics();
  const access = new AccessControl(options.devices, options.acl, options.tls?.clientCa !== undefined);
  const usernames = new WeakMap<Client, string | undefined>();
  const db = new Level<string, string>(join(options.dataDir, 'mqtt'));
  await db.open();

  let broker: Aedes | undefined;
  // aedes keeps its clients by id in `clients`, which its type definitions leave out.
  const isConnected = (clientId: string) => (broker as (Aedes & { clients: Record<string, Client | undefined> }) | undefined)?.clients[clientId]?.connected === true;
  const sessions = new SessionKeeper(db, options.limits, isConnected, clock, metrics, log);
  const persistence = sessions.wrap(new AsyncLevelPersistence(db as Level<string, unknown>));
  const targets = new RuleTargets(options.store, options.firehose, (topic, payload, qos) =>
    new Promise<void>((resolve, reject) => broker!.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (error) => (error ? reject(error) : resolve()))),
  );
  const rules = new RuleEngine(targets, db, metrics, log, clock);
  await rules.load(options.rules);

  broker = await Aedes.createBroker({
    // A broker id that sorts by start time: aedes-persistence-level keys queued messages by broker
    // id and a per-start counter, so messages queued before a restart stay ahead of later ones.
    id: `riffle-${String(clock.now()).padStart(15, '0')}`,
    persistence,
    authenticate(client, username, password, done) {
      access.authenticate({ username, password, ...certificateNameOf(client) }).then(
        (admitted) => {
          if (admitted) {
            usernames.set(client, admitted.username);
            return done(null, true);
          }
          metrics.add('mqtt_connections_refused_total', 1, { reason: 'credentials' });
          log('mqtt.auth-refused', { clientId: client.id, username, remote: remoteOf(client) });
          const error = new Error('bad username or password') as AuthenticateError;
          error.returnCode = username === undefined ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD;
          done(error, false);
        },
        (error: unknown) => done(error as AuthenticateError, false),
      );
    },
    authorizePublish(client, packet, done) {
      const clientId = client?.id ?? String((packet as PublishPacket & { clientId?: string }).clientId ?? '');
      metrics.add('mqtt_messages_received_total');
      // MQTT-3.3.5-2: an unauthorized PUBLISH is either acknowledged or the connection closed; we
      // close it, so the device learns (3.1.1 has no negative acknowledgement).
      if (packet.topic.startsWith('$SYS') || !access.allows({ username: client ? usernames.get(client) : undefined, clientId, topic: packet.topic, kind: 'publish' })) {
        metrics.add('mqtt_publish_denied_total');
        log('mqtt.publish-denied', { clientId, username: client ? usernames.get(client) : undefined, topic: packet.topic });
        return done(new Error(`publish to ${packet.topic} denied`));
      }
      routeThroughRules(client, clientId, packet).then(
        () => done(null),
        (error: unknown) => {
          if (!(error instanceof EngineClosedError)) log('mqtt.rules-failed', { clientId, topic: packet.topic, error: String(error) });
          done(error as Error);
        },
      );
    },
    authorizeSubscribe(client, subscription, done) {
      if (access.allows({ username: usernames.get(client), clientId: client.id, topic: subscription.topic, kind: 'subscribe' })) return done(null, subscription);
      metrics.add('mqtt_subscribe_denied_total');
      log('mqtt.subscribe-denied', { clientId: client.id, username: usernames.get(client), topic: subscription.topic });
      // null: SUBACK with 0x80, failure, for this filter (MQTT 3.1.1 §3.9.3).
      done(null, null);
    },
  });

  async function routeThroughRules(client: Client | null, clientId: string, packet: PublishPacket): Promise<void> {
    // MQTT-4.3.3-2: a resent QoS 2 PUBLISH already stored (PUBREC lost) must not be delivered twice.
    if (packet.qos === 2 && client) {
      const duplicate = await persistence.incomingGetPacket(client, packet).then(() => true, () => false);
      if (duplicate) return;
    }
    await rules.process(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), clientId);
  }

  broker.on('clientReady', (client) => {
    metrics.set('mqtt_clients_connected', broker!.connectedClients);
    sessions.clientConnected(client.id).catch((error: unknown) => log('mqtt.session-write-failed', { error: String(error) }));
  });
  broker.on('clientDisconnect', (client) => {
    metrics.set('mqtt_clients_connected', broker!.connectedClients);
    sessions.clientDisconnected(client.id, !client.clean).catch((error: unknown) => log('mqtt.session-write-failed', { error: String(error) }));
  });
  broker.on('connectionError', (_client, error) => {
    const code = (error as Error & { errorCode?: number }).errorCode;
    if (code === 1) {
      metrics.add('mqtt_connections_refused_total', 1, { reason: 'protocol-version' });
      log('mqtt.protocol-refused', { error: error.message });
    }
  });
  sessions.start(persistence, sweepIntervalMs(options.limits.sessionExpiryMs));

  const handle = (stream: Duplex, req?: IncomingMessage) => broker!.handle(stream, req);
  const tcp = createTcpServer((socket) => handle(socket));
  const port = await listen(tcp, options.port, options.host);
  let tlsServer: NetServer | undefined;
  let tlsPort: number | undefined;
  if (options.tls) {
    const { cert, key, clientCa } = options.tls;
    // Client certificates are asked for but not required: devices without one log in with a password.
    const clientCertificates = clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false };
    tlsServer = createTlsServer({ cert, key, ...clientCertificates }, (socket) => handle(socket));
    tlsPort = await listen(tlsServer, options.tls.port, options.host);
  }
  const websockets = new WebSocketServer({ noServer: true });

  return {
    port,
    ...(tlsPort === undefined ? {} : { tlsPort }),
    metrics,
    rules,
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== WEBSOCKET_PATH) return false;
      websockets.handleUpgrade(req, socket, head, (ws) => handle(createWebSocketStream(ws), req));
      return true;
    },
    async close() {
      rules.close();
      await sessions.stop();
      for (const client of websockets.clients) client.terminate();
      // Stops accepting; broker.close() then ends the open connections.
      tcp.close();
      tlsServer?.close();
      await new Promise<void>((resolve) => broker!.close(() => resolve()));
      await db.close();
    },
  };
}

/** The CN of a client certificate that verified against the client CA, if the client sent one. */
function certificateNameOf(client: Client): { certificateName?: string } {
  const socket = client.conn;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
  const name = socket.getPeerCertificate().subject?.CN;
  return typeof name === 'string' && name !== '' ? { certificateName: name } : {};
}

function remoteOf(client: Client): string | undefined {
  const socket = client.conn as Partial<Socket>;
  return socket.remoteAddress === undefined ? client.req?.socket.remoteAddress : `${socket.remoteAddress}:${socket.remotePort}`;
}

function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
