/**
 * The subscription module with an injected clock and timers: the 5-minute lifetime, takeover of an
 * older subscription after 5 seconds, and the 2 MiB/s per-consumer budget. Messages are decoded
 * with the SDK's own event-stream codec (@smithy/core), so prelude and CRCs are checked too.
 * (The SDK end to end is test/e2e/subscribe-to-shard.test.ts.)
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { EventStreamOutput } from '../../collector/api/operation.js';
import { FAN_OUT_BYTES_PER_SECOND, IDLE_EVENT_MS, SUBSCRIPTION_LIFETIME_MS, subscribeToShard, type SubscriptionTimers } from '../../collector/consumers/subscribe-to-shard.js';
import { SUBSCRIPTION_TAKEOVER_MS } from '../../collector/store/consumers.js';
import { StreamStore } from '../../collector/store/streams.js';
import type { ShardLimitsSetting } from '../../collector/store/throughput.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

interface Decoded {
  type: string;
  body: any;
}

/** Timers whose sleeps end only when the test moves the clock past them (or they are aborted). */
class ManualTimers implements SubscriptionTimers {
  readonly sleeps: Array<{ untilMs: number; wake: () => void; requestedMs: number }> = [];
  constructor(readonly clock: ManualClock) {}
  now(): number {
    return this.clock.now();
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const entry = { untilMs: this.clock.now() + ms, wake: resolve, requestedMs: ms };
      this.sleeps.push(entry);
      signal.addEventListener('abort', () => resolve());
    });
  }
  advance(ms: number): void {
    this.clock.advance(ms);
    for (const sleep of this.sleeps.splice(0)) {
      if (sleep.untilMs <= this.clock.now()) sleep.wake();
      else this.sleeps.push(sleep);
    }
  }
}

/** Runs an event stream into a list of decoded messages; `done` settles when the producer returns. */
function run(output: EventStreamOutput): { messages: Decoded[]; done: Promise<void>; cancel: () => void } {
  const messages: Decoded[] = [];
  const controller = new AbortController();
  const done = output.produce({
    signal: controller.signal,
    write: async (message) => {
      const decoded = codec.decode(message);
      const kind = decoded.headers[':message-type']!.value === 'exception' ? decoded.headers[':exception-type']! : decoded.headers[':event-type']!;
      messages.push({ type: String(kind.value), body: JSON.parse(Buffer.from(decoded.body).toString('utf8')) });
    },
  });
  return { messages, done, cancel: () => controller.abort() };
}

let dir: { path: string; remove: () => Promise<void> };
let clock: ManualClock;
let timers: ManualTimers;
let store: StreamStore;
let consumerArn: string;

async function openStore(shardLimits: ShardLimitsSetting): Promise<void> {
  store = await StreamStore.open({
    dataDir: dir.path,
    clock,
    region: 'us-east-1',
    accountId: '123456789012',
    shardLimits,
    statusDelayMs: 0,
    shardLimit: 100,
    onDemandStreamCountLimit: 10,
    log: () => undefined,
  });
  await store.createStream({ name: 's', shardCount: 1, mode: 'PROVISIONED' });
  await store.settled({ streamName: 's' });
  consumerArn = (await store.consumers.register(store.streamArn('s'), 'c')).consumerArn;
  await pollUntil('consumer ACTIVE', () => store.consumers.find({ consumerArn }).consumer.status === 'ACTIVE');
}

const subscribe = () => subscribeToShard(store, { consumerArn, shardId: 'shardId-000000000000', startingPosition: { type: 'TRIM_HORIZON' } }, timers);

describe('SubscribeToShard subscriptions', () => {
  beforeEach(async () => {
    dir = await makeTempDir();
    clock = new ManualClock();
    timers = new ManualTimers(clock);
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('sends an empty event after each quiet spell, pushes records as they land, and ends after 5 minutes of injected time', async () => {
    await openStore({ enabled: false });
    const subscription = run(await subscribe());
    await pollUntil('first event', () => subscription.messages.length === 2);
    expect(subscription.messages.map((m) => m.type)).toEqual(['initial-response', 'SubscribeToShardEvent']);
    expect(subscription.messages[1]!.body).toMatchObject({ Records: [], MillisBehindLatest: 0 });

    timers.advance(IDLE_EVENT_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(subscription.messages).toHaveLength(2);
    timers.advance(1);
    await pollUntil('an idle event', () => subscription.messages.length === 3);
    expect(subscription.messages[2]!.body.Records).toEqual([]);

    await store.putRecords({ streamName: 's' }, [{ partitionKey: 'k', data: Buffer.from('late') }]);
    await pollUntil('the record pushed', () => subscription.messages.length === 4);
    const pushed = subscription.messages[3]!.body;
    expect(Buffer.from(pushed.Records[0].Data, 'base64').toString()).toBe('late');
    expect(pushed.ContinuationSequenceNumber).toBe(pushed.Records[0].SequenceNumber);

    // A quiet spell after the record: the idle event keeps the continuation at it.
    await pollUntil('the subscription waiting again', () => timers.sleeps.length > 0);
    timers.advance(IDLE_EVENT_MS);
    await pollUntil('an idle event after the record', () => subscription.messages.length === 5);
    expect(subscription.messages[4]!.body).toMatchObject({ Records: [], ContinuationSequenceNumber: pushed.ContinuationSequenceNumber });

    let ended = false;
    void subscription.done.then(() => (ended = true));
    await pollUntil('the subscription waiting again', () => timers.sleeps.length > 0);
    clock.set(Date.UTC(2026, 0, 1) + SUBSCRIPTION_LIFETIME_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    timers.advance(1);
    await subscription.done;
  });

  it('refuses a second subscription within 5 seconds and lets a later one take over', async () => {
    await openStore({ enabled: false });
    const first = run(await subscribe());
    await pollUntil('first event', () => first.messages.length === 2);
    await expect(subscribe()).rejects.toMatchObject({ code: 'ResourceInUseException' });
    timers.advance(SUBSCRIPTION_TAKEOVER_MS);
    const second = run(await subscribe());
    await first.done;
    expect(first.messages[first.messages.length - 1]!.type).toBe('ResourceInUseException');
    await pollUntil('second subscription started', () => second.messages.length === 2);
    second.cancel();
    await second.done;
  });

  it('holds a consumer to 2 MiB/s per shard when shard limits are on', async () => {
    await openStore({ enabled: true, multiplier: 1 });
    // Writes are limited to 1 MiB/s per shard: put 3 MiB over 3 seconds of injected time.
    for (let second = 0; second < 3; second++) {
      const results = await store.putRecords({ streamName: 's' }, Array.from({ length: 4 }, () => ({ partitionKey: 'k', data: Buffer.alloc(250 * 1024) })));
      expect(results.every((r) => 'sequenceNumber' in r)).toBe(true);
      clock.advance(1000);
    }
    const subscription = run(await subscribe());
    await pollUntil('the stored records', () => subscription.messages.length === 2);
    expect(subscription.messages[1]!.body.Records).toHaveLength(12);
    // That read took 3 MiB (+ keys) and overdrew the 2 MiB budget by about 1 MiB: a record put now waits ~0.5 s.
    await store.putRecords({ streamName: 's' }, [{ partitionKey: 'k', data: Buffer.from('next') }]);
    const isThrottle = (s: { requestedMs: number }) => s.requestedMs !== IDLE_EVENT_MS;
    await pollUntil('a throttling sleep', () => timers.sleeps.some(isThrottle));
    const throttle = timers.sleeps.find(isThrottle)!;
    const overdraft = 3 * 1000 * 1024 + 12 - FAN_OUT_BYTES_PER_SECOND;
    expect(throttle.requestedMs).toBe(Math.ceil(((overdraft + 1) * 1000) / FAN_OUT_BYTES_PER_SECOND));
    expect(subscription.messages).toHaveLength(2);
    timers.advance(throttle.requestedMs);
    await pollUntil('the next record after the wait', () => subscription.messages.length === 3);
    subscription.cancel();
    await subscription.done;
  });
});
