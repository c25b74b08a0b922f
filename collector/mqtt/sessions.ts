/**
 * Bounds on persistent (clean-session = false) MQTT sessions, which aedes keeps without limit:
 * - a per-client limit on queued QoS 1/2 messages while the client is offline: past it, new
 *   messages for that client are dropped (the newest, as mosquitto's max_queued_messages does) and
 *   counted;
 * - an expiry for abandoned sessions: a client offline longer than the expiry loses its
 *   subscriptions, queue and in-flight state, and the dropped messages are counted.
 *
 * On disk this shares aedes-persistence-level's level database (`<data-dir>/mqtt`) and relies on
 * its key layout: `subscriptions:<id>:<filter>`, `outgoing:<id>:<broker>:<counter>`,
 * `outgoing-id:<id>:<messageId>`, `incoming:<id>:<messageId>`, `will:<id>`, with the client id
 * URI-encoded. Our own keys are `riffle-offline-since:<id>` → milliseconds since the epoch (text),
 * written when a persistent client disconnects and removed when it connects; a session found
 * offline without one (e.g. after a crash) starts its expiry clock at the next sweep.
 */
import type { Level } from 'level';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { MqttMetrics } from './metrics.js';

export interface SessionLimits {
  /** Largest number of messages queued for one offline client. */
  queueLimit: number;
  /** An offline persistent session older than this is removed. */
  sessionExpiryMs: number;
}

interface Subscriber {
  clientId: string;
}

/** The part of aedes' async persistence interface this module wraps or calls. */
export interface QueuePersistence {
  outgoingEnqueueCombi(subs: Subscriber[], packet: unknown): Promise<unknown>;
  cleanSubscriptions(client: { id: string }): Promise<void>;
}

const OFFLINE_SINCE = 'riffle-offline-since:';

function range(prefix: string): { gte: string; lt: string } {
  // Every prefix ends with ':'; ';' is the next byte, so the range holds exactly the prefix's keys.
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` };
}

export class SessionKeeper {
  /** Queue length per offline client, counted from disk on first use while it is offline. */
  private readonly queued = new Map<string, Promise<{ count: number }>>();
  private readonly warnedFull = new Set<string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly db: Level<string, string>,
    private readonly limits: SessionLimits,
    private readonly isConnected: (clientId: string) => boolean,
    private readonly clock: Clock,
    private readonly metrics: MqttMetrics,
    private readonly log: Logger,
  ) {}

  /** The persistence with the queue limit applied to offline subscribers. */
  wrap<P extends QueuePersistence>(persistence: P): P {
    const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
    return new Proxy(persistence, {
      get: (target, property, receiver) => {
        if (property === 'outgoingEnqueueCombi') {
          return async (subs: Subscriber[], packet: unknown) => enqueue(await this.admit(subs ?? []), packet);
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  private async admit(subs: Subscriber[]): Promise<Subscriber[]> {
    const admitted: Subscriber[] = [];
    for (const sub of subs) {
      if (this.isConnected(sub.clientId)) {
        admitted.push(sub);
        continue;
      }
      const queue = await this.queueOf(sub.clientId);
      if (queue.count >= this.limits.queueLimit) {
        this.metrics.add('mqtt_offline_messages_dropped_total');
        if (!this.warnedFull.has(sub.clientId)) {
          this.warnedFull.add(sub.clientId);
          this.log('mqtt.offline-queue-full', { clientId: sub.clientId, queueLimit: this.limits.queueLimit });
        }
        continue;
      }
      queue.count++;
      admitted.push(sub);
    }
    return admitted;
  }

  private queueOf(clientId: string): Promise<{ count: number }> {
    let queue = this.queued.get(clientId);
    if (!queue) {
      queue = this.countKeys(`outgoing:${encodeURIComponent(clientId)}:`).then((count) => ({ count }));
      this.queued.set(clientId, queue);
    }
    return queue;
  }

  private async countKeys(prefix: string): Promise<number> {
    let count = 0;
    for await (const _key of this.db.keys(range(prefix))) count++;
    return count;
  }

  async clientConnected(clientId: string): Promise<void> {
    this.queued.delete(clientId);
    this.warnedFull.delete(clientId);
    await this.db.del(OFFLINE_SINCE + encodeURIComponent(clientId));
  }

  async clientDisconnected(clientId: string, persistent: boolean): Promise<void> {
    this.queued.delete(clientId);
    if (persistent) await this.db.put(OFFLINE_SINCE + encodeURIComponent(clientId), String(this.clock.now()));
  }

  /** Sweeps now and then every `intervalMs`. */
  start(persistence: QueuePersistence, intervalMs: number): void {
    const run = () => {
      this.sweeping ??= this.sweep(persistence)
        .catch((error: unknown) => this.log('mqtt.session-sweep-failed', { error: String(error) }))
        .finally(() => (this.sweeping = undefined));
    };
    run();
    this.sweepTimer = setInterval(run, intervalMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.sweeping;
  }

  /** Removes the sessions offline for longer than the expiry. */
  async sweep(persistence: QueuePersistence): Promise<void> {
    const now = this.clock.now();
    const sessions = new Set<string>();
    for (const prefix of ['subscriptions:', 'outgoing:', 'incoming:']) {
      for await (const key of this.db.keys(range(prefix))) sessions.add(key.slice(prefix.length, key.indexOf(':', prefix.length)));
    }
    for (const encodedId of sessions) {
      const clientId = decodeURIComponent(encodedId);
      if (this.isConnected(clientId)) continue;
      const since = await this.db.get(OFFLINE_SINCE + encodedId);
      if (since === undefined) {
        await this.db.put(OFFLINE_SINCE + encodedId, String(now));
        continue;
      }
      if (now - Number(since) < this.limits.sessionExpiryMs) continue;
      const dropped = await this.countKeys(`outgoing:${encodedId}:`);
      await persistence.cleanSubscriptions({ id: clientId });
      for (const prefix of ['outgoing:', 'outgoing-id:', 'incoming:']) await this.db.clear(range(`${prefix}${encodedId}:`));
      await this.db.del(OFFLINE_SINCE + encodedId);
      this.queued.delete(clientId);
      this.metrics.add('mqtt_sessions_expired_total');
      this.metrics.add('mqtt_expired_session_messages_dropped_total', dropped);
      this.log('mqtt.session-expired', { clientId, offlineSinceMs: Number(since), droppedMessages: dropped });
    }
  }
}
