/**
 * What every sink is. A sink only sends and reports, one outcome per record, in the records'
 * order; the pipeline owns retry scheduling (shared/backoff.ts), the spool and the
 * acknowledgements — Fluent Bit's OK / RETRY / ERROR split.
 */
import type { PackedRecords } from '../buffer/packed-records.js';
import { awsCallErrorCodes, type AwsClientContext, type AwsClientOptions, type ErrorOutcome, type RetryOutcome } from '../../shared/aws-client.js';

export type { ErrorOutcome, RetryOutcome };

export interface SinkRecord {
  /** Exactly the bytes to store. */
  data: Buffer;
  /** Kinesis routes by it; Firehose has no partition keys and ignores it. */
  partitionKey: string;
  /** Kinesis only: a decimal 128-bit hash key that overrides the partition key's hash. */
  explicitHashKey?: string;
}

export type SendOutcome =
  | { kind: 'ok' }
  /** Send this record again later. `throttled`: the service asked us to slow down. */
  | RetryOutcome
  /** Permanent: sending this record again will never succeed (count it, log it). */
  | ErrorOutcome;

/**
 * Outcome codes of our own, for failures that carry no AWS `__type`: the AWS client's, and the
 * record checks'.
 */
export const sinkErrorCodes = {
  ...awsCallErrorCodes,
  /** The record alone is over `limits.maxRecordBytes` (an `error`: it can never be stored). */
  recordTooLarge: 'RECORD_TOO_LARGE',
  /** Kinesis: the partition key is empty or longer than 256 characters (an `error`). */
  invalidPartitionKey: 'INVALID_PARTITION_KEY',
} as const;

export interface SinkLimits {
  /** Records per call. */
  maxRecords: number;
  /** Bytes per call, counted as the service counts them (data, plus partition keys for Kinesis). */
  maxBatchBytes: number;
  /** Bytes per record, counted the same way. */
  maxRecordBytes: number;
}

export interface Sink {
  /** `<kind> <endpoint>`, for logs and status. */
  readonly name: string;
  readonly limits: SinkLimits;
  /**
   * One API call for `records` (a pipeline batch, packed). Resolves with one outcome per record and never rejects for
   * anything the network or the service does. Throws RangeError when the batch breaks
   * `limits` (more records or bytes than one call may carry): that is the caller's bug.
   * A record that alone breaks `maxRecordBytes` or the partition-key rules gets an `error`
   * outcome and the rest of the batch is still sent.
   */
  send(streamName: string, records: PackedRecords): Promise<SendOutcome[]>;
  /** Closes idle keep-alive connections; the sink must not be used afterwards. */
  close(): void;
}

/**
 * A sink's settings: the agent.json keys of its target (`kinesis.*` or `firehose.*`) plus the
 * general ones that shape its connections — the options of the AWS client it calls through.
 */
export type SinkOptions = AwsClientOptions;

export type SinkContext = AwsClientContext;

/** A kind of sink, as registered in index.ts. */
export interface SinkSpec {
  /** The flow key that selects it: `kinesisStream` → kinesis, `deliveryStream` → firehose. */
  readonly kind: 'kinesis' | 'firehose';
  readonly limits: SinkLimits;
  /** Throws ConfigError for settings that cannot work (bad endpoint, an AWS endpoint without credentials). */
  create(options: SinkOptions, context: SinkContext): Sink;
}
