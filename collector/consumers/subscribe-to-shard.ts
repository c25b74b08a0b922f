/**
 * One enhanced fan-out subscription (SubscribeToShard): pushes a shard's records to one consumer
 * as event-stream messages.
 *
 * Invariants
 * - The first message is `initial-response`; then `SubscribeToShardEvent`s carry Records,
 *   ContinuationSequenceNumber (the last record delivered, for AFTER_SEQUENCE_NUMBER),
 *   MillisBehindLatest and, once a closed shard is read to its end, ChildShards — then the stream ends.
 * - No polling: when caught up, the subscription sleeps until the store says the shard took records
 *   (StreamStore.watchShard, registered before each read so nothing slips between read and wait),
 *   or until IDLE_EVENT_MS passed, when it sends an empty event.
 * - It lasts 5 minutes (then ends cleanly; the client subscribes again from its continuation),
 *   ends when a newer subscription takes it over (ResourceInUseException event) or its consumer is
 *   deregistered (ResourceNotFoundException event), and reports read failures as exception events, never as a cut connection.
 * - With shard limits on, at most 2 MiB/s per consumer per shard (times the limits multiplier).
 */
import { sleepUnlessAborted, type Clock } from '../../shared/clock.js';
import { AwsError } from '../../shared/errors.js';
import { encodeEvent, encodeExceptionEvent } from '../../shared/event-stream.js';
import { encodeAwsBody } from '../../shared/aws-wire.js';
import { EventStreamOutput, type EventStreamSink } from '../api/operation.js';
import { childShardsOutput, recordsOutput } from '../api/kinesis/get-records.js';
import { GET_RECORDS_MAX_RECORDS, type IteratorType, type StreamStore } from '../store/streams.js';
import { TokenBucket } from '../store/throughput.js';

/** "The event stream that your consumer receives lasts for 5 minutes" — SubscribeToShard API reference. */
export const SUBSCRIPTION_LIFETIME_MS = 5 * 60_000;
/**
 * A quiet shard still gets an (empty) event this often, so the consumer sees the subscription is
 * alive and its ContinuationSequenceNumber — "it captures your shard progress even when no data is
 * written to the shard" (SubscribeToShardEvent API reference).
 */
export const IDLE_EVENT_MS = 5_000;
/** Enhanced fan-out: 2 MiB/s per consumer per shard (Kinesis quotas). */
export const FAN_OUT_BYTES_PER_SECOND = 2 * 1024 * 1024;

export interface StartingPosition {
  type: IteratorType;
  sequenceNumber?: string;
  timestamp?: Date;
}

export interface SubscriptionRequest {
  consumerArn: string;
  shardId: string;
  startingPosition: StartingPosition;
}

/** Time, injectable: tests drive expiry by hand. `sleep` resolves after `ms` or when `signal` aborts. */
export interface SubscriptionTimers extends Clock {
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export function realTimers(clock: Clock): SubscriptionTimers {
  return {
    now: () => clock.now(),
    sleep: sleepUnlessAborted,
  };
}

/**
 * Checks the request (an unknown consumer or shard, a consumer not ACTIVE, a subscription held by
 * another caller are plain error responses), claims the subscription and returns the stream.
 */
export async function subscribeToShard(store: StreamStore, request: SubscriptionRequest, timers: SubscriptionTimers): Promise<EventStreamOutput> {
  const view = store.consumers.find({ consumerArn: request.consumerArn });
  if (view.consumer.status !== 'ACTIVE') {
    throw new AwsError('ResourceInUseException', `Consumer ${view.consumerArn} is not ACTIVE, instead in state ${view.consumer.status}.`);
  }
  const { type, sequenceNumber, timestamp } = request.startingPosition;
  const iterator = await store.getShardIterator({ streamName: view.streamName }, request.shardId, type, sequenceNumber, timestamp);
  const startedMs = timers.now();
  const superseded = new AbortController();
  const release = store.consumers.claimSubscription(view.consumerArn, request.shardId, { startedMs, end: (reason) => superseded.abort(reason) });
  return new EventStreamOutput(async (sink) => {
    try {
      await pushRecords(store, { streamName: view.streamName, shardId: request.shardId, iterator, startedMs }, sink, superseded.signal, timers);
    } finally {
      release();
    }
  });
}

interface SubscriptionState {
  streamName: string;
  shardId: string;
  iterator: string;
  startedMs: number;
}

async function pushRecords(store: StreamStore, state: SubscriptionState, sink: EventStreamSink, superseded: AbortSignal, timers: SubscriptionTimers): Promise<void> {
  const ended = AbortSignal.any([sink.signal, superseded]);
  const endsAtMs = state.startedMs + SUBSCRIPTION_LIFETIME_MS;
  const multiplier = store.throughputMultiplier();
  const budget = multiplier === undefined ? undefined : new TokenBucket(FAN_OUT_BYTES_PER_SECOND * multiplier, timers.now());
  let continuation = store.sequenceNumberBefore(state.iterator);
  await sink.write(encodeEvent('initial-response', Buffer.from('{}')));

  // An event goes out first thing, and again whenever a quiet spell lasted IDLE_EVENT_MS.
  let eventDue = true;
  for (;;) {
    if (ended.aborted) {
      if (superseded.aborted && !sink.signal.aborted) await sink.write(exceptionEventFor(superseded.reason));
      return;
    }
    if (timers.now() >= endsAtMs) return;
    const throttledMs = budget?.msUntilAllowance(timers.now()) ?? 0;
    if (throttledMs > 0) {
      await timers.sleep(Math.min(throttledMs, endsAtMs - timers.now()), ended);
      continue;
    }

    let wake!: () => void;
    const appended = new Promise<void>((resolve) => (wake = resolve));
    const unwatch = store.watchShard(state.streamName, state.shardId, wake);
    let result;
    try {
      result = await store.getRecords(state.iterator, GET_RECORDS_MAX_RECORDS, { enhancedFanOut: true });
    } catch (error) {
      unwatch();
      await sink.write(exceptionEventFor(error));
      return;
    }
    const last = result.records[result.records.length - 1];
    if (last) continuation = last.sequenceNumber;
    const closed = result.nextIterator === undefined;
    if (result.records.length > 0 || closed || eventDue) {
      eventDue = false;
      const event = {
        Records: recordsOutput(result.records),
        // A shard read to its end has no continuation: the consumer moves on to ChildShards.
        ...(!closed && continuation !== undefined ? { ContinuationSequenceNumber: continuation } : {}),
        MillisBehindLatest: result.millisBehindLatest,
        ...(result.childShards ? { ChildShards: childShardsOutput(result.childShards) } : {}),
      };
      const message = encodeEvent('SubscribeToShardEvent', encodeAwsBody(event, 'json'));
      // Charged as GetRecords is: data and partition keys, not the encoding around them.
      budget?.takeAllowingDebt(result.bytes, timers.now());
      await sink.write(message);
    }
    if (closed) {
      unwatch();
      return;
    }
    state.iterator = result.nextIterator!;
    if (!result.caughtUp) {
      unwatch(); // behind: read on at once
      continue;
    }
    const sleeping = new AbortController();
    const sleepEnded = AbortSignal.any([ended, sleeping.signal]);
    const idle = Symbol('idle');
    const woke = await Promise.race([appended, timers.sleep(Math.min(IDLE_EVENT_MS, endsAtMs - timers.now()), sleepEnded).then(() => idle)]);
    eventDue = woke === idle;
    sleeping.abort();
    unwatch();
  }
}

/** Read failures become the event stream's modeled exceptions; anything unexpected is InternalFailureException. */
function exceptionEventFor(error: unknown): Buffer {
  if (error instanceof AwsError && (error.code === 'ResourceNotFoundException' || error.code === 'ResourceInUseException')) {
    return encodeExceptionEvent(error.code, error.message);
  }
  return encodeExceptionEvent('InternalFailureException', 'Internal service failure.');
}
