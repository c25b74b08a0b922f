/**
 * What every sink is. A sink only sends and reports, one outcome per record, in the records'
 * order; the pipeline owns retry scheduling (shared/backoff.ts), the spool and the
 * acknowledgements — Fluent Bit's OK / RETRY / ERROR split.
 */
import type { Clock } from '../../shared/clock.js';
import type { Compression } from '../config.js';

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
  | { kind: 'retry'; code: string; message: string; throttled: boolean }
  /** Permanent: sending this record again will never succeed (count it, log it). */
  | { kind: 'error'; code: string; message: string };

/** Outcome codes of our own, for failures that carry no AWS `__type`. */
export const sinkErrorCodes = {
  /** No answer: connection refused or reset, DNS, TLS. The message names the system error. */
  network: 'NETWORK_ERROR',
  /** No connection within connectTimeoutMillis, or no complete answer within requestTimeoutMillis. */
  timeout: 'TIMEOUT',
  /** An answer that is not the operation's output: not JSON, too large, entries missing. */
  badResponse: 'BAD_RESPONSE',
  /** The record alone is over `limits.maxRecordBytes` (an `error`: it can never be stored). */
  recordTooLarge: 'RECORD_TOO_LARGE',
  /** Kinesis: the partition key is empty or longer than 256 characters (an `error`). */
  invalidPartitionKey: 'INVALID_PARTITION_KEY',
} as const;

export type RetryOutcome = Extract<SendOutcome, { kind: 'retry' }>;
export type ErrorOutcome = Extract<SendOutcome, { kind: 'error' }>;

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
   * One API call for `records`. Resolves with one outcome per record and never rejects for
   * anything the network or the service does. Throws RangeError when the batch breaks
   * `limits` (more records or bytes than one call may carry): that is the caller's bug.
   * A record that alone breaks `maxRecordBytes` or the partition-key rules gets an `error`
   * outcome and the rest of the batch is still sent.
   */
  send(streamName: string, records: SinkRecord[]): Promise<SendOutcome[]>;
  /** Closes idle keep-alive connections; the sink must not be used afterwards. */
  close(): void;
}

/**
 * A sink's settings: the agent.json keys of its target (`kinesis.*` or `firehose.*`) plus the
 * general ones that shape its connections.
 */
export interface SinkOptions {
  /**
   * `kinesis.endpoint` / `firehose.endpoint`: a Riffle collector (`http://collector.lan:4567`)
   * or an AWS endpoint. Default: `https://kinesis.<region>.amazonaws.com` or
   * `https://firehose.<region>.amazonaws.com` (`.amazonaws.com.cn` in China regions).
   */
  endpoint?: string;
  /** `kinesis.region` / `firehose.region`: the region requests are signed for. */
  region: string;
  /**
   * `awsAccessKeyId` / `awsSecretAccessKey`. Absent: the environment, then the shared
   * credentials file (see credentials.ts). With none of them, requests to a non-AWS endpoint go
   * unsigned (a loopback collector may run open); an AWS endpoint fails at start.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * `compression`: `zstd` compresses request bodies (`Content-Encoding: zstd`), which only a
   * Riffle collector accepts; `none` sends them as they are, which is what AWS accepts; `auto`
   * (the default) means zstd unless the endpoint's host is an AWS one (ends in amazonaws.com,
   * amazonaws.com.cn or api.aws).
   */
  compression?: Compression;
  /** `maxSendingThreads`: connections kept open to the endpoint at most. Default 4. */
  maxConnections?: number;
  /** Longest wait for a TCP (and TLS) connection to be established. Default 10 s. */
  connectTimeoutMillis?: number;
  /** Longest a whole call may take, connection to last response byte. Default 60 s. */
  requestTimeoutMillis?: number;
}

export interface SinkContext {
  /** Signing time. */
  clock: Clock;
  /** Where the credential chain looks (`AWS_*`, `HOME`). */
  env: NodeJS.ProcessEnv;
}

/** A kind of sink, as registered in index.ts. */
export interface SinkSpec {
  /** The flow key that selects it: `kinesisStream` → kinesis, `deliveryStream` → firehose. */
  readonly kind: 'kinesis' | 'firehose';
  readonly limits: SinkLimits;
  /** Throws ConfigError for settings that cannot work (bad endpoint, an AWS endpoint without credentials). */
  create(options: SinkOptions, context: SinkContext): Sink;
}
