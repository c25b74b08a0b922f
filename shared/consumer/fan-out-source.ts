/**
 * Enhanced fan-out: SubscribeToShard with this application's registered consumer, records pushed
 * as they land. A subscription lasts 5 minutes; the source subscribes again after the last record
 * delivered. Exception events and error answers become ConsumerApiError.
 */
import http from 'node:http';
import https from 'node:https';
import { readAwsError, requestHostname, type HttpAnswer } from '../aws-client.js';
import { jsonContentType } from '../aws-wire.js';
import { EventStreamDecoder, type EventMessage } from '../event-stream.js';
import { ConsumerApiError, type ConsumerApi, type WireRecord } from './api-client.js';
import type { RecordSource, ResumePoint, ShardBatch } from './record-source.js';

export interface FanOutSourceOptions {
  /** The worker's client: its endpoint, and its signing, so SubscribeToShard carries the same credentials as every other call. */
  api: ConsumerApi;
  consumerArn: string;
  shardId: string;
  startPosition: 'TRIM_HORIZON' | 'LATEST';
}

interface SubscribeToShardEvent {
  Records: WireRecord[];
  ContinuationSequenceNumber?: string;
  ChildShards?: unknown[];
}

/** Events of one open subscription, queued as they arrive. */
class Subscription {
  private readonly queue: Array<SubscribeToShardEvent | Error | 'end'> = [];
  private waiter: (() => void) | undefined;
  private request: http.ClientRequest | undefined;

  constructor(options: FanOutSourceOptions, position: Record<string, string>) {
    const { endpoint } = options.api;
    const body = Buffer.from(JSON.stringify({ ConsumerARN: options.consumerArn, ShardId: options.shardId, StartingPosition: position }));
    const headers: Record<string, string> = { host: endpoint.host, 'content-type': jsonContentType, 'x-amz-target': 'Kinesis_20131202.SubscribeToShard' };
    const signature = options.api.signatureFor(headers, body);
    const transport = endpoint.protocol === 'https:' ? https : http;
    const request = transport.request({
      method: 'POST',
      hostname: requestHostname(endpoint),
      port: endpoint.port,
      path: endpoint.pathname,
      headers: { ...headers, ...signature, 'content-length': String(body.length) },
    });
    this.request = request;
    request.on('error', (error) => this.push(new ConsumerApiError('NetworkError', String(error), true, false)));
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => this.push(errorAnswer({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) })));
        return;
      }
      const decoder = new EventStreamDecoder();
      response.on('data', (chunk: Buffer) => {
        try {
          for (const message of decoder.push(chunk)) this.onMessage(message);
        } catch (error) {
          this.push(new ConsumerApiError('SerializationException', String(error), true, false));
          request.destroy();
        }
      });
      response.on('end', () => this.push('end'));
      response.on('error', (error) => this.push(new ConsumerApiError('NetworkError', String(error), true, false)));
    });
    request.end(body);
  }

  private onMessage(message: EventMessage): void {
    const type = message.headers[':message-type'];
    if (type === 'exception' || type === 'error') {
      const code = String(message.headers[':exception-type'] ?? message.headers[':error-code'] ?? 'InternalFailure');
      const text = message.payload.length > 0 ? String((JSON.parse(message.payload.toString()) as { message?: string }).message ?? '') : '';
      this.push(new ConsumerApiError(code, text, code !== 'ResourceNotFoundException', false));
    } else if (message.headers[':event-type'] === 'SubscribeToShardEvent') {
      this.push(JSON.parse(message.payload.toString()) as SubscribeToShardEvent);
    }
  }

  private push(item: SubscribeToShardEvent | Error | 'end'): void {
    this.queue.push(item);
    this.waiter?.();
  }

  /** The next event; 'end' when the subscription ended normally. Errors throw. */
  async next(signal: AbortSignal): Promise<SubscribeToShardEvent | 'end'> {
    while (this.queue.length === 0) {
      if (signal.aborted) return 'end';
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.waiter = undefined;
    }
    const item = this.queue.shift()!;
    if (item instanceof Error) throw item;
    return item;
  }

  close(): void {
    this.request?.destroy();
    this.request = undefined;
  }
}

/** A refused subscription, coded as every other call's failure is (readAwsError); only which codes are worth retrying is the fan-out's own. */
function errorAnswer(answer: HttpAnswer): ConsumerApiError {
  const { code, message } = readAwsError(answer);
  // ResourceInUseException: the previous subscription is still live for a few seconds.
  return new ConsumerApiError(code, message, answer.status >= 500 || code === 'ResourceInUseException' || code === 'LimitExceededException', false);
}

export class FanOutSource implements RecordSource {
  private subscription: Subscription | undefined;

  constructor(private readonly options: FanOutSourceOptions) {}

  async next(from: ResumePoint | undefined, signal: AbortSignal): Promise<ShardBatch> {
    for (;;) {
      this.subscription ??= new Subscription(
        this.options,
        from !== undefined ? { Type: from.inclusive ? 'AT_SEQUENCE_NUMBER' : 'AFTER_SEQUENCE_NUMBER', SequenceNumber: from.sequenceNumber } : { Type: this.options.startPosition },
      );
      let event: SubscribeToShardEvent | 'end';
      try {
        event = await this.subscription.next(signal);
      } catch (error) {
        this.close();
        throw error;
      }
      if (event === 'end') {
        this.close();
        if (signal.aborted) return { records: [], shardEnded: false };
        continue; // the 5-minute subscription ran out: subscribe again after what was delivered
      }
      const shardEnded = event.ContinuationSequenceNumber === undefined && (event.ChildShards?.length ?? 0) > 0;
      if (shardEnded) this.close();
      return { records: event.Records, shardEnded };
    }
  }

  close(): void {
    this.subscription?.close();
    this.subscription = undefined;
  }
}
