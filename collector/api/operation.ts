/**
 * The contract between the HTTP front end and the API operations.
 *
 * server.ts decodes the body (JSON 1.1 or CBOR 1.1, after any Content-Encoding), verifies SigV4
 * and hands an `ApiCall` to the dispatcher; the dispatcher validates the input against the
 * operation's request shape (collector/api/schemas), authorizes it and runs the operation.
 * Blobs arrive at `handle` as Buffers and timestamps as Dates; an operation returns plain
 * objects in AWS PascalCase, with Buffers for blobs and Dates for timestamps — the server
 * encodes those for the wire protocol. An operation that answers with a stream of events
 * (SubscribeToShard) returns an `EventStreamOutput` instead: the server sends the status and
 * content type, then lets it write messages until it finishes or the client goes away.
 */
import type { WireProtocol } from '../../shared/aws-wire.js';
import type { Identity } from '../auth.js';

export type { WireProtocol };

export interface ApiCall {
  /** `X-Amz-Target`, e.g. `Kinesis_20131202.PutRecords`. */
  target: string;
  /** The decoded body, not yet validated. */
  input: unknown;
  protocol: WireProtocol;
  /** Who signed the request; undefined when the API runs open. */
  identity: Identity | undefined;
  requestId: string;
}

export interface Dispatcher {
  dispatch(call: ApiCall): Promise<unknown>;
}

/** Where an event-stream answer writes its messages. */
export interface EventStreamSink {
  /** Writes one encoded message; resolves once the transport can take more (backpressure). */
  write(message: Buffer): Promise<void>;
  /** Aborted when the client goes away or the server shuts down; the producer then returns. */
  signal: AbortSignal;
}

/** An answer streamed as `application/vnd.amazon.eventstream` messages. */
export class EventStreamOutput {
  constructor(readonly produce: (sink: EventStreamSink) => Promise<void>) {}
}
