/**
 * MQTT source: one mqtt.js 5 client with a stable client id and a persistent session
 * (clean: false), shared by every MQTT flow; each flow subscribes its topic filters.
 *
 * Acknowledgement: a QoS 1 message's PUBACK (QoS 2: PUBREC) goes to the broker only once the
 * pipeline settles the record — delivered, or durably in the spool — so a crash or a full spool
 * loses nothing: the broker redelivers what was never acknowledged (duplicates, bounded by the
 * in-flight window, are possible; loss is not). mqtt.js acknowledges as soon as a message is
 * handled and handles one message at a time, so the client's `_sendPacket` is wrapped to hold
 * those acknowledgements and release them, in receive order (MQTT 3.1.1 §4.6), once settled;
 * mqtt.js itself moves on at once. (`_sendPacket` is internal; mqtt is pinned to 5.16.0.)
 * The agent announces a Receive Maximum (MQTT 5 §3.1.2.11.3), but brokers may ignore it
 * (mosquitto 2.0.11 does), so the window is also kept here: while RECEIVE_MAXIMUM messages
 * are held, or the pipeline asked to pause, mqtt.js's per-message callback is held too, and
 * mqtt.js reads no further packet from the socket (TCP then slows the broker down). When half
 * the window is held, `onPressure` asks the pipeline to flush now, once per crossing.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { topicMatches } from '../../shared/mqtt-topic.js';
import type { MqttSourceConfig } from '../config.js';
import type { AckTarget, AgentRecord } from '../record.js';

/** How many QoS 1/2 messages may await their acknowledgement at once. */
const RECEIVE_MAXIMUM = 1000;

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
}

export interface MqttFlowHandler {
  config: MqttSourceConfig;
  /** Takes a record; false asks the source to stop taking messages (backpressure). */
  emit(record: AgentRecord): boolean;
  /** Many acknowledgements are held: flush what is buffered. */
  onPressure(): void;
}

interface HeldAck {
  settled: boolean;
  /** The PUBACK/PUBREC mqtt.js wanted to send, once it has. */
  packet?: Packet;
}

export interface MqttSourceStatus {
  connected: boolean;
  received: number;
  acknowledged: number;
  held: number;
  partitionKeyFallbacks: number;
  lastError?: string;
}

export class MqttSource implements AckTarget {
  readonly spoolIsSafe = true;
  private client: MqttClient | undefined;
  private readonly flows: MqttFlowHandler[] = [];
  /** Held acknowledgements by sequence number; `nextToRelease` is the oldest not yet sent. */
  private readonly held = new Map<number, HeldAck>();
  private readonly sequenceByMessageId = new Map<number, number>();
  private nextSequence = 0;
  private nextToRelease = 0;
  /** The flows that asked to pause; the source takes messages only while none has. */
  private readonly pausedBy = new Set<MqttFlowHandler>();
  /** mqtt.js's callback for the last message, held while the window is closed. */
  private blockedCallback: (() => void) | undefined;
  private pressureSignalled = false;
  private readonly counters = { received: 0, acknowledged: 0, partitionKeyFallbacks: 0 };
  private lastError: string | undefined;

  constructor(
    private readonly connection: MqttConnectionOptions,
    private readonly log: Logger,
  ) {}

  addFlow(handler: MqttFlowHandler): void {
    this.flows.push(handler);
  }

  async start(): Promise<void> {
    const options: IClientOptions = {
      clientId: this.connection.clientId,
      clean: false,
      protocolVersion: 5,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // Keep the session (and the QoS 1/2 messages the broker queues for it) while the agent is down.
      properties: { sessionExpiryInterval: 0xffffffff, receiveMaximum: RECEIVE_MAXIMUM },
      customHandleAcks: (topic, message, packet, callback) => {
        this.take(topic, message, packet);
        if (this.windowOpen()) callback(0);
        else this.blockedCallback = () => callback(0);
      },
      ...(this.connection.username !== undefined ? { username: this.connection.username } : {}),
      ...(this.connection.password !== undefined ? { password: this.connection.password } : {}),
    };
    const client = mqtt.connect(this.connection.url, options);
    this.client = client;
    this.wrapAcknowledgements(client);
    client.on('message', (topic, message, packet) => {
      if (packet.qos === 0) this.take(topic, message, packet);
    });
    client.on('connect', (connack) => {
      this.log('mqtt_connected', { url: this.connection.url, sessionPresent: connack.sessionPresent });
      if (!connack.sessionPresent) this.subscribeAll();
    });
    client.on('close', () => {
      // Acknowledgements held for a closed connection are void: the broker redelivers those messages.
      this.held.clear();
      this.sequenceByMessageId.clear();
      this.nextToRelease = this.nextSequence;
      this.blockedCallback = undefined; // it belonged to the closed connection's packet stream
      this.pressureSignalled = false;
    });
    client.on('error', (error) => {
      this.lastError = error.message;
      this.log('mqtt_error', { error: error.message });
    });
    await new Promise<void>((resolve) => {
      client.once('connect', () => resolve());
      // Not connected yet is not fatal: mqtt.js keeps retrying and the flow waits.
      setTimeout(resolve, 10_000).unref();
    });
  }

  private subscribeAll(): void {
    for (const flow of this.flows) {
      this.client?.subscribe(flow.config.topics, { qos: flow.config.qos }, (error) => {
        if (error) {
          this.lastError = error.message;
          this.log('mqtt_subscribe_failed', { topics: flow.config.topics, error: error.message });
        }
      });
    }
  }

  private wrapAcknowledgements(client: MqttClient): void {
    const internal = client as unknown as { _sendPacket: (packet: Packet, cb?: () => void, ...rest: unknown[]) => void };
    const send = internal._sendPacket.bind(client);
    internal._sendPacket = (packet, cb, ...rest) => {
      if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.messageId !== undefined) {
        const sequence = this.sequenceByMessageId.get(packet.messageId);
        const entry = sequence === undefined ? undefined : this.held.get(sequence);
        if (entry) {
          entry.packet = packet;
          cb?.(); // let mqtt.js handle the next message now
          this.release();
          return;
        }
      }
      send(packet, cb, ...rest);
    };
    this.sendHeld = (packet) => send(packet);
  }

  private sendHeld: (packet: Packet) => void = () => undefined;

  private take(topic: string, message: Buffer, packet: IPublishPacket): void {
    this.counters.received++;
    const flow = this.flows.find((f) => f.config.topics.some((filter) => topicMatches(filter, topic)));
    const sequence = this.nextSequence++;
    if (packet.qos > 0 && packet.messageId !== undefined) {
      this.held.set(sequence, { settled: false });
      this.sequenceByMessageId.set(packet.messageId, sequence);
    } else {
      this.nextToRelease = Math.max(this.nextToRelease, sequence + 1);
    }
    if (!flow) {
      this.settle(sequence, sequence); // subscribed by an earlier config: nothing wants it
      return;
    }
    const record: AgentRecord = { data: message, acks: packet.qos > 0 ? [{ target: this, from: sequence, to: sequence }] : [] };
    const partitionKey = this.partitionKeyFor(flow.config, topic, message);
    if (partitionKey !== undefined) record.partitionKey = partitionKey;
    if (!flow.emit(record)) this.pause(flow);
    if (!this.pressureSignalled && this.held.size >= RECEIVE_MAXIMUM / 2) {
      this.pressureSignalled = true;
      flow.onPressure();
    }
  }

  private windowOpen(): boolean {
    return this.pausedBy.size === 0 && this.held.size < RECEIVE_MAXIMUM;
  }

  /** Lets mqtt.js read the next packet once the window has room again. */
  private unblock(): void {
    if (this.held.size < RECEIVE_MAXIMUM / 4) this.pressureSignalled = false;
    if (!this.blockedCallback || !this.windowOpen()) return;
    const callback = this.blockedCallback;
    this.blockedCallback = undefined;
    callback();
  }

  private partitionKeyFor(config: MqttSourceConfig, topic: string, message: Buffer): string | undefined {
    const rule = config.partitionKey;
    if (!rule) return undefined;
    let key: unknown;
    if ('topicLevel' in rule) key = topic.split('/')[rule.topicLevel - 1];
    else {
      try {
        key = (JSON.parse(message.toString('utf8')) as Record<string, unknown>)[rule.jsonField];
      } catch {
        key = undefined;
      }
    }
    if ((typeof key === 'string' && key !== '') || typeof key === 'number') return String(key).slice(0, 256);
    this.counters.partitionKeyFallbacks++;
    return undefined;
  }

  settle(from: number, to: number): void {
    for (let sequence = from; sequence <= to; sequence++) {
      const entry = this.held.get(sequence);
      if (entry) entry.settled = true;
    }
    this.release();
  }

  /** Sends the acknowledgements of the settled prefix, in receive order. */
  private release(): void {
    while (this.nextToRelease < this.nextSequence) {
      const entry = this.held.get(this.nextToRelease);
      if (entry) {
        if (!entry.settled || !entry.packet) break;
        this.held.delete(this.nextToRelease);
        const messageId = (entry.packet as { messageId?: number }).messageId;
        if (messageId !== undefined) this.sequenceByMessageId.delete(messageId);
        this.sendHeld(entry.packet);
        this.counters.acknowledged++;
      }
      this.nextToRelease++;
    }
    this.unblock();
  }

  /**
   * Backpressure (the pipeline is full): stop taking messages — the held callback stops QoS 1/2,
   * pausing the socket stops QoS 0; what is not acknowledged stays with the broker. The pipeline
   * resumes when there is room.
   */
  pause(flow: MqttFlowHandler): void {
    this.pausedBy.add(flow);
    this.client?.stream?.pause();
  }

  resume(flow: MqttFlowHandler): void {
    if (!this.pausedBy.delete(flow) || this.pausedBy.size > 0) return;
    this.client?.stream?.resume();
    this.unblock();
  }

  status(): MqttSourceStatus {
    return {
      connected: this.client?.connected ?? false,
      ...this.counters,
      held: this.held.size,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}
