/**
 * The sinks: where a flow's batches go. Adding one is a file with its SinkSpec, listed here.
 *
 * - `kinesis` (kinesis.ts): PutRecords to a Riffle collector or Amazon Kinesis Data Streams.
 * - `firehose` (firehose.ts): PutRecordBatch to Amazon Data Firehose.
 *
 * Both call through shared/aws-client.ts (keep-alive HTTP(S), SigV4, zstd bodies to a collector —
 * CBOR ones for kinesis, see records-cbor.ts — mapping of failures) with shared/aws-credentials.ts (config keys, environment,
 * ~/.aws/credentials). Retry timing is not theirs: see shared/backoff.ts.
 */
import type { AgentConfig, FlowConfig } from '../config.js';
import { firehoseSink } from './firehose.js';
import { kinesisSink } from './kinesis.js';
import type { Sink, SinkContext, SinkOptions, SinkSpec } from './sink.js';

export type { ErrorOutcome, RetryOutcome, SendOutcome, Sink, SinkContext, SinkLimits, SinkOptions, SinkRecord, SinkSpec } from './sink.js';
export { sinkErrorCodes } from './sink.js';

export const sinkSpecs = {
  kinesis: kinesisSink,
  firehose: firehoseSink,
} as const satisfies Record<SinkSpec['kind'], SinkSpec>;

export type SinkKind = keyof typeof sinkSpecs;

export function createSink(kind: SinkKind, options: SinkOptions, context: SinkContext): Sink {
  return sinkSpecs[kind].create(options, context);
}

/** The sink a flow sends to and its settings, from agent.json. */
export function sinkOptionsFor(config: AgentConfig, flow: FlowConfig): { kind: SinkKind; options: SinkOptions } {
  const kind = flow.destination.kind;
  const target = kind === 'kinesis' ? config.kinesis : config.firehose;
  return {
    kind,
    options: {
      region: target.region,
      ...(target.endpoint !== undefined ? { endpoint: target.endpoint } : {}),
      ...(config.credentials !== undefined ? { credentials: config.credentials } : {}),
      compression: flow.compression,
      maxConnections: config.maxSendingThreads,
    },
  };
}
