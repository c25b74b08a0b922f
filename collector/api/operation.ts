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
 *
 * Two shortcuts for the hottest request, PutRecords: a dispatcher may read a body straight into
 * a `ValidatedInput` (`readInput`; the server then skips the generic decode and the dispatcher
 * the model walk), and an operation may return a `WireAnswer` that writes its own bytes.
 */
import type { WireProtocol } from '../../shared/aws-wire.js';
import type { Identity } from '../auth.js';

export type { WireProtocol };

export interface ApiCall {
  /** `X-Amz-Target`, e.g. `Kinesis_20131202.PutRecords`. */
  target: string;
  /** The decoded body, not yet validated — or what `Dispatcher.readInput` read and validated. */
  input: unknown;
  protocol: WireProtocol;
  /** Who signed the request; undefined when the API runs open. */
  identity: Identity | undefined;
  requestId: string;
}

export interface Dispatcher {
  /**
   * A fast reader's input for the requests that have one (PutRecords), straight from the
   * body after Content-Encoding; undefined for everything else, which is decoded generically.
   * Never throws: a body it cannot vouch for is left to the generic decode and validation.
   */
  readInput?(target: string, body: Buffer, protocol: WireProtocol): ValidatedInput | undefined;
  dispatch(call: ApiCall): Promise<unknown>;
}

/** An operation's input that a fast reader already checked against the request shape, as the model walk would. */
export class ValidatedInput {
  constructor(
    /** The `X-Amz-Target` it was read for. */
    readonly target: string,
    readonly value: Record<string, unknown>,
  ) {}
}

/** An answer that writes its own wire bytes (PutRecords': up to 500 entries into one Buffer). */
export abstract class WireAnswer {
  abstract encode(protocol: WireProtocol): Buffer;
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
