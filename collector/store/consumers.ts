/**
 * Enhanced fan-out consumers registered on streams, and the subscriptions they hold.
 *
 * Invariants
 * - A stream's consumers live in its StreamMeta (`consumers`), so they are written in the same
 *   synchronous level put as the rest of the stream and vanish with it on DeleteStream.
 * - Status runs CREATING → ACTIVE (register) and ACTIVE → DELETING → gone (deregister), each after
 *   the store's status delay; a restart completes an interrupted transition at once.
 * - At most one subscription per consumer and shard is live; `claimSubscription` decides who holds
 *   it (in memory only: a restart ends every HTTP stream anyway). Deregistering a consumer ends its
 *   subscriptions.
 *
 * Consumer ARNs are AWS's: `arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<creation epoch seconds>`.
 */
import { AwsError } from '../../shared/errors.js';
import type { ConsumerMeta, StreamMeta } from './metadata.js';
import type { StreamStore } from './streams.js';

/** "You can register up to 20 consumers per data stream." — Kinesis enhanced fan-out quota. */
export const MAX_CONSUMERS_PER_STREAM = 20;
/**
 * SubscribeToShard: a second call for the same consumer and shard within 5 seconds of a successful
 * call gets ResourceInUseException; after that it takes the subscription over (API reference).
 */
export const SUBSCRIPTION_TAKEOVER_MS = 5_000;

const CONSUMER_ARN = /^arn:aws[\w-]*:kinesis:([\w-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]+)\/consumer\/([a-zA-Z0-9_.-]+):(\d+)$/;

/** Whether `arn` has the form of a consumer ARN (it may still name no registered consumer). */
export function isConsumerArn(arn: string): boolean {
  return CONSUMER_ARN.test(arn);
}

export interface ConsumerView {
  streamName: string;
  consumer: ConsumerMeta;
  consumerArn: string;
}

/** A live subscription, as the registry can end it: taken over by another, or its consumer deregistered. */
export interface SubscriptionHolder {
  startedMs: number;
  /** Ends the subscription with `reason` as its final exception event. */
  end(reason: AwsError): void;
}

export interface ConsumerRegistryOptions {
  region: string;
  accountId: string;
  statusDelayMs: number;
  now(): number;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export class ConsumerRegistry {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly subscriptions = new Map<string, SubscriptionHolder>();
  private closed = false;

  constructor(
    private readonly store: StreamStore,
    private readonly options: ConsumerRegistryOptions,
  ) {}

  /** Completes transitions a restart interrupted: CREATING becomes ACTIVE, DELETING goes. */
  async recover(): Promise<void> {
    for (const meta of this.store.listStreams()) {
      if (!meta.consumers?.some((c) => c.status !== 'ACTIVE')) continue;
      await this.store.updateMeta({ streamName: meta.name }, (stream) => {
        stream.consumers = (stream.consumers ?? []).filter((c) => c.status !== 'DELETING').map((c) => ({ ...c, status: 'ACTIVE' }));
      });
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  consumerArn(streamName: string, consumer: ConsumerMeta): string {
    return `${this.store.streamArn(streamName)}/consumer/${consumer.name}:${Math.floor(consumer.createdMs / 1000)}`;
  }

  async register(streamArn: string, consumerName: string, tags?: Record<string, string>): Promise<ConsumerView> {
    const streamName = this.store.nameOf({ streamArn });
    const stream = this.store.describe({ streamName });
    this.requireUsable(stream);
    const existing = stream.consumers ?? [];
    if (existing.some((c) => c.name === consumerName)) {
      throw new AwsError('ResourceInUseException', `Consumer ${consumerName} under stream ${streamName} already exists for account ${this.options.accountId}.`);
    }
    if (existing.length >= MAX_CONSUMERS_PER_STREAM) {
      throw new AwsError('LimitExceededException', `Stream ${streamName} under account ${this.options.accountId} already has ${MAX_CONSUMERS_PER_STREAM} registered consumers, the maximum.`);
    }
    const consumer: ConsumerMeta = { name: consumerName, createdMs: this.options.now(), status: 'CREATING', ...(tags ? { tags: { ...tags } } : {}) };
    await this.store.updateMeta({ streamName }, (meta) => (meta.consumers = [...(meta.consumers ?? []), consumer]));
    this.afterDelay(streamName, consumerName, (c) => c.status === 'CREATING', (meta) => {
      const registered = meta.consumers?.find((c) => c.name === consumerName);
      if (registered) registered.status = 'ACTIVE';
    });
    return { streamName, consumer, consumerArn: this.consumerArn(streamName, consumer) };
  }

  async deregister(address: ConsumerAddress): Promise<void> {
    const { streamName, consumer } = this.find(address);
    if (consumer.status === 'DELETING') return;
    await this.store.updateMeta({ streamName }, (meta) => {
      const registered = meta.consumers?.find((c) => c.name === consumer.name);
      if (registered) registered.status = 'DELETING';
    });
    const consumerArn = this.consumerArn(streamName, consumer);
    for (const [key, holder] of this.subscriptions) {
      if (!key.startsWith(`${consumerArn} `)) continue;
      this.subscriptions.delete(key);
      holder.end(this.notFound(consumer.name, streamName));
    }
    this.afterDelay(streamName, consumer.name, (c) => c.status === 'DELETING', (meta) => {
      meta.consumers = (meta.consumers ?? []).filter((c) => c.name !== consumer.name);
    });
  }

  /** A consumer by its ARN, or by StreamARN + ConsumerName; ResourceNotFoundException when there is none. */
  find(address: ConsumerAddress): ConsumerView {
    let streamName: string;
    let consumerName: string;
    let createdSeconds: number | undefined;
    if (address.consumerArn !== undefined) {
      const match = CONSUMER_ARN.exec(address.consumerArn);
      if (!match) throw new AwsError('InvalidArgumentException', `Invalid ConsumerARN: ${address.consumerArn}`);
      if (match[1] !== this.options.region || match[2] !== this.options.accountId) throw this.notFound(match[4]!, match[3]!);
      streamName = match[3]!;
      consumerName = match[4]!;
      createdSeconds = Number(match[5]);
    } else if (address.streamArn !== undefined && address.consumerName !== undefined) {
      streamName = this.store.nameOf({ streamArn: address.streamArn });
      consumerName = address.consumerName;
    } else {
      throw new AwsError('InvalidArgumentException', 'Either ConsumerARN or both StreamARN and ConsumerName must be provided.');
    }
    let stream: StreamMeta;
    try {
      stream = this.store.describe({ streamName });
    } catch (error) {
      if (error instanceof AwsError && error.code === 'ResourceNotFoundException') throw this.notFound(consumerName, streamName);
      throw error;
    }
    const consumer = stream.consumers?.find((c) => c.name === consumerName);
    // The creation time in an ARN tells a re-registered consumer of the same name from the old one.
    if (!consumer || (createdSeconds !== undefined && Math.floor(consumer.createdMs / 1000) !== createdSeconds)) throw this.notFound(consumerName, streamName);
    return { streamName, consumer, consumerArn: this.consumerArn(streamName, consumer) };
  }

  list(streamArn: string): ConsumerView[] {
    const streamName = this.store.nameOf({ streamArn });
    const stream = this.store.describe({ streamName });
    return [...(stream.consumers ?? [])]
      .sort((a, b) => a.createdMs - b.createdMs || (a.name < b.name ? -1 : 1))
      .map((consumer) => ({ streamName, consumer, consumerArn: this.consumerArn(streamName, consumer) }));
  }

  /**
   * Takes the subscription of a consumer to a shard for `holder`: refused while another is younger
   * than the takeover window, else the older one is superseded. Returns the release function.
   */
  claimSubscription(consumerArn: string, shardId: string, holder: SubscriptionHolder): () => void {
    const key = `${consumerArn} ${shardId}`;
    const current = this.subscriptions.get(key);
    if (current) {
      if (holder.startedMs - current.startedMs < SUBSCRIPTION_TAKEOVER_MS) {
        throw new AwsError('ResourceInUseException', `Another active subscription exists for this consumer: ${consumerArn} and shard ${shardId}.`);
      }
      current.end(new AwsError('ResourceInUseException', `Another subscription for shard ${shardId} of consumer ${consumerArn} took over.`));
    }
    this.subscriptions.set(key, holder);
    return () => {
      if (this.subscriptions.get(key) === holder) this.subscriptions.delete(key);
    };
  }

  private requireUsable(stream: StreamMeta): void {
    if (stream.status === 'CREATING' || stream.status === 'DELETING') {
      throw new AwsError('ResourceInUseException', `Stream ${stream.name} under account ${this.options.accountId} not ACTIVE, instead in state ${stream.status}`);
    }
  }

  private notFound(consumerName: string, streamName: string): AwsError {
    return new AwsError('ResourceNotFoundException', `Consumer ${consumerName} under stream ${streamName} not found for account ${this.options.accountId}.`);
  }

  /** Applies `change` after the status delay if the consumer is still in the state `stillPending` expects. */
  private afterDelay(streamName: string, consumerName: string, stillPending: (c: ConsumerMeta) => boolean, change: (meta: StreamMeta) => void): void {
    const run = (): void => {
      if (this.closed) return;
      let pending: boolean;
      try {
        const consumer = this.store.describe({ streamName }).consumers?.find((c) => c.name === consumerName);
        pending = consumer !== undefined && stillPending(consumer);
      } catch {
        pending = false; // the stream went away, and its consumers with it
      }
      if (!pending) return;
      this.store.updateMeta({ streamName }, change).catch((error) => this.options.log('consumer_status_change_failed', { stream: streamName, consumer: consumerName, error: String(error) }));
    };
    if (this.options.statusDelayMs <= 0) {
      queueMicrotask(run);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, this.options.statusDelayMs);
    timer.unref();
    this.timers.add(timer);
  }
}

export interface ConsumerAddress {
  consumerArn?: string;
  streamArn?: string;
  consumerName?: string;
}
