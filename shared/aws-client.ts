/**
 * One signed AWS JSON 1.1 or CBOR 1.1 call (`POST /`, `X-Amz-Target`), zstd-compressed when the
 * endpoint is a Riffle collector, SigV4-signed, over keep-alive HTTP/1.1 or HTTPS, with bounded
 * timeouts — and the mapping of whole-call failures to `retry` or `error`. The agent's sinks
 * (agent/sinks/) and the consumer library (shared/consumer/) both call through it.
 *
 * Riffle or AWS? Decided by `compression` (see AwsClientOptions): `auto` treats a host ending in
 * amazonaws.com, amazonaws.com.cn or api.aws as AWS and anything else as a Riffle collector.
 * AWS takes no compressed request bodies, a collector takes zstd (and gzip). `compressesBodies`
 * tells a caller which it is talking to, so it can pick the body's protocol per call (the
 * kinesis sink sends CBOR to a collector); answers are read in the protocol their Content-Type
 * names, whatever the request's was.
 *
 * Whole-call failures:
 *  - no answer (refused, reset, DNS, TLS, timeout) → `retry`;
 *  - 5xx, 408, and the transient codes below → `retry`; 429 and the throttling codes → `retry`
 *    with `throttled`;
 *  - every other 4xx (ValidationException, AccessDeniedException, ResourceNotFoundException,
 *    InvalidSignatureException, UnrecognizedClientException, …) → `error`, coded with the AWS
 *    `__type`;
 *  - except a signature refused because the device's clock is off (a Pi has no real-time clock
 *    and boots before NTP has set it): the server's `Date` header gives the offset, later
 *    requests are signed with the corrected time — as the AWS SDKs do — and the call is `retry`.
 */
import http from 'node:http';
import https from 'node:https';
import { resolveCredentials, type CredentialsSource } from './aws-credentials.js';
import { cborContentType, decodeAwsBody, jsonContentType, wireProtocolOf, type WireProtocol } from './aws-wire.js';
import type { Clock } from './clock.js';
import { ConfigError } from './config-values.js';
import { signRequest } from './sigv4.js';
import { zstdCompress, type ZstdError } from './zstd.js';

/** How request bodies go out; see AwsClientOptions.compression. */
export type Compression = 'zstd' | 'none' | 'auto';

/** Send the same request again later. `throttled`: the service asked us to slow down. */
export type RetryOutcome = { kind: 'retry'; code: string; message: string; throttled: boolean };
/** Permanent: sending the same request again will never succeed. */
export type ErrorOutcome = { kind: 'error'; code: string; message: string };

/** Failure codes of our own, for whole-call failures that carry no AWS `__type`. */
export const awsCallErrorCodes = {
  /** No answer: connection refused or reset, DNS, TLS. The message names the system error. */
  network: 'NETWORK_ERROR',
  /** No connection within connectTimeoutMillis, or no complete answer within requestTimeoutMillis. */
  timeout: 'TIMEOUT',
  /** An answer that is not the operation's output: not a structure in the answer's protocol (JSON or CBOR), too large, entries missing. */
  badResponse: 'BAD_RESPONSE',
} as const;

/**
 * Where and how a client calls. The agent fills them from agent.json: the keys of a sink's target
 * (`kinesis.*` or `firehose.*`) plus the general ones that shape its connections.
 */
export interface AwsClientOptions {
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
   * credentials file (see aws-credentials.ts). With none of them, requests to a non-AWS endpoint
   * go unsigned (a loopback collector may run open); an AWS endpoint fails at start.
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

export interface AwsClientContext {
  /** Signing time. */
  clock: Clock;
  /** Where the credential chain looks (`AWS_*`, `HOME`). */
  env: NodeJS.ProcessEnv;
}

export type AwsService = 'kinesis' | 'firehose';

const DEFAULT_MAX_CONNECTIONS = 4;
// The AWS SDK for Java's connection timeout, which the Kinesis Agent inherits, is 10 s.
const DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000;
// 5 MiB over a slow uplink (1 Mbit/s ≈ 45 s) must fit; a hung call must not hold a batch for long.
const DEFAULT_REQUEST_TIMEOUT_MILLIS = 60_000;
// A PutRecords answer for 500 records is about 60 KB; far more than that is not an AWS answer,
// and reading it all would cost a 512 MB device memory for nothing.
const MAX_RESPONSE_BYTES = 1024 * 1024;
// zstd level 1: the fastest standard level, and on log lines as small as level 3 (within 3% on
// bench:agent's lines, where wasm level 1 takes 0.57 ms per 500-line body against 0.79 ms).
// The collector's decompression costs the same either way.
export const REQUEST_ZSTD_LEVEL = 1;
// SigV4: AWS refuses a request signed more than 5 minutes away from its clock.
const ALLOWED_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The service asks us to slow down. */
const throttlingErrorCodes = new Set([
  'ProvisionedThroughputExceededException', // Kinesis: shard or stream write quota
  'ThrottlingException', // API call rate
  'LimitExceededException', // Kinesis: request-rate limits
  'KMSThrottlingException', // Kinesis: the stream's KMS key is rate-limited
  'ServiceUnavailableException', // Firehose: "Slow down." when the delivery stream's quota is hit
  'TooManyRequestsException',
]);

/** Failures of the moment that the same request may get past later. */
const transientErrorCodes = new Set([
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeoutException',
  // A session token ran out; the shared credentials file is re-read when it is rewritten, so the
  // next attempt may carry a fresh one.
  'ExpiredTokenException',
]);

/** Codes AWS services use for a signature outside the allowed clock skew. */
const clockSkewErrorCodes = new Set(['InvalidSignatureException', 'RequestExpired', 'RequestTimeTooSkewed', 'RequestInTheFuture', 'SignatureDoesNotMatch']);

export function defaultEndpoint(service: AwsService, region: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${service}.${region}.${domain}`;
}

function isAwsHost(hostname: string): boolean {
  return /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws)$/i.test(hostname);
}

export function compressesBodies(compression: Compression, endpoint: URL): boolean {
  return compression === 'zstd' || (compression === 'auto' && !isAwsHost(endpoint.hostname));
}

export type AwsCallResult = { ok: true; output: Record<string, unknown> } | { ok: false; failure: RetryOutcome | ErrorOutcome };

/** A complete HTTP answer: its status, headers and whole body. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A failure before a complete answer arrived; `code` is one of awsCallErrorCodes. */
class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a 200 answer's body into the operation's output; throws when it is not one. */
export type OutputReader = (answer: Buffer, protocol: WireProtocol) => Record<string, unknown>;

const contentTypes: Record<WireProtocol, string> = { json: jsonContentType, cbor: cborContentType };

export class AwsJsonClient {
  readonly endpoint: URL;
  /** Request bodies go zstd-compressed: the endpoint is a Riffle collector (see the header). */
  readonly compressesBodies: boolean;
  private readonly credentials: CredentialsSource | undefined;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly connectTimeoutMillis: number;
  private readonly requestTimeoutMillis: number;
  private readonly maxConnections: number;
  /** Server time minus our clock, learned from a clock-skew refusal. */
  private clockOffsetMs = 0;

  constructor(
    private readonly service: AwsService,
    private readonly options: AwsClientOptions,
    private readonly context: AwsClientContext,
  ) {
    const endpointKey = `${service}.endpoint`;
    try {
      this.endpoint = new URL(options.endpoint ?? defaultEndpoint(service, options.region));
    } catch {
      throw new ConfigError(endpointKey, `is not a URL: ${JSON.stringify(options.endpoint)}`);
    }
    if (this.endpoint.protocol !== 'http:' && this.endpoint.protocol !== 'https:') {
      throw new ConfigError(endpointKey, `must be an http:// or https:// URL, got ${JSON.stringify(options.endpoint)}`);
    }
    this.compressesBodies = compressesBodies(options.compression ?? 'auto', this.endpoint);
    this.credentials = resolveCredentials(options.credentials, context.env);
    if (this.credentials === undefined && isAwsHost(this.endpoint.hostname)) {
      throw new ConfigError(
        'credentials',
        `${this.endpoint.host} needs AWS credentials: set awsAccessKeyId and awsSecretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials`,
      );
    }
    const isTls = this.endpoint.protocol === 'https:';
    this.transport = isTls ? https : http;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const agentOptions = { keepAlive: true, maxSockets: this.maxConnections };
    this.agent = isTls ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.connectTimeoutMillis = options.connectTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MILLIS;
    this.requestTimeoutMillis = options.requestTimeoutMillis ?? DEFAULT_REQUEST_TIMEOUT_MILLIS;
  }

  /**
   * One call of `target` (e.g. `Kinesis_20131202.PutRecords`) with its body in `protocol`;
   * never rejects. `readOutput` reads a 200 answer (default: the general decoder of its protocol).
   */
  async call(target: string, request: Buffer, protocol: WireProtocol = 'json', readOutput: OutputReader = decodeAwsBody): Promise<AwsCallResult> {
    let body: Buffer;
    try {
      body = this.compressesBodies ? await zstdCompress(request, REQUEST_ZSTD_LEVEL) : request;
    } catch (error) {
      // zstdCompress fails only with ZSTD_OUT_OF_MEMORY, and replaces the wasm instance when it
      // does, so a later attempt can succeed.
      const { code, message } = error as ZstdError;
      return { ok: false, failure: { kind: 'retry', code, message, throttled: false } };
    }
    const headers: Record<string, string> = {
      host: this.endpoint.host,
      'content-type': contentTypes[protocol],
      'x-amz-target': target,
      ...(this.compressesBodies ? { 'content-encoding': 'zstd' } : {}),
    };
    const signedAt = this.signingTime();
    const signature = this.sign(headers, body, signedAt);
    let answer: HttpAnswer;
    try {
      answer = await this.exchange(body, { ...headers, ...signature, 'content-length': String(body.length) });
    } catch (error) {
      const code = error instanceof TransportError ? error.code : awsCallErrorCodes.network;
      const message = error instanceof TransportError ? error.message : describeSystemError(error);
      return { ok: false, failure: { kind: 'retry', code, message, throttled: false } };
    }
    if (answer.status === 200) {
      const answerProtocol = answerProtocolOf(answer);
      try {
        return { ok: true, output: readOutput(answer.body, answerProtocol) };
      } catch {
        return { ok: false, failure: badResponse(`HTTP 200 with a body that is not a ${answerProtocol.toUpperCase()} structure (${answer.body.length} bytes)`) };
      }
    }
    return { ok: false, failure: this.classifyFailure(answer, signedAt) };
  }

  /**
   * SigV4 headers for a POST to the endpoint that call() cannot make — SubscribeToShard, whose
   * answer is an event stream (shared/consumer/fan-out-source.ts) — signed exactly as call()
   * signs: the credentials resolved at construction, the client's clock with any skew correction
   * it has learned. None when the client runs unsigned.
   */
  signatureFor(headers: Record<string, string>, body: Buffer): Record<string, string> {
    return this.sign(headers, body, this.signingTime());
  }

  close(): void {
    this.agent.destroy();
  }

  private signingTime(): number {
    return this.context.clock.now() + this.clockOffsetMs;
  }

  private sign(headers: Record<string, string>, body: Buffer, signedAt: number): Record<string, string> {
    if (this.credentials === undefined) return {};
    return signRequest(
      { method: 'POST', path: this.endpoint.pathname, query: '', headers, body },
      this.credentials.current(),
      { region: this.options.region, service: this.service },
      new Date(signedAt),
    );
  }

  private classifyFailure(answer: HttpAnswer, signedAt: number): RetryOutcome | ErrorOutcome {
    const { code, message } = readAwsError(answer);
    if (clockSkewErrorCodes.has(code)) {
      const serverTime = Date.parse(String(answer.headers.date));
      if (Number.isFinite(serverTime) && Math.abs(serverTime - signedAt) > ALLOWED_CLOCK_SKEW_MS) {
        this.clockOffsetMs = serverTime - this.context.clock.now();
        return { kind: 'retry', code, message: `${message} (clock off by ${this.clockOffsetMs} ms; signing with the server's time from now on)`, throttled: false };
      }
    }
    if (throttlingErrorCodes.has(code) || answer.status === 429) return { kind: 'retry', code, message, throttled: true };
    if (transientErrorCodes.has(code) || answer.status >= 500 || answer.status === 408) return { kind: 'retry', code, message, throttled: false };
    return { kind: 'error', code, message };
  }

  /**
   * Sends the request, and sends it again on another connection when a reused keep-alive
   * connection is reset before any answer: the server's idle timeout crossed our request and it
   * dropped the connection unanswered (a race Node documents for keep-alive agents). That is
   * part of delivering the request once, not a retry of the call; should the server instead
   * have died after storing the records, the resend is a duplicate, never a loss.
   */
  private async exchange(body: Buffer, headers: Record<string, string>): Promise<HttpAnswer> {
    // Each stale connection is destroyed as it is found, so at worst every pooled one is tried.
    for (let attempt = 0; attempt <= this.maxConnections; attempt++) {
      const answer = await this.exchangeOnce(body, headers);
      if (answer !== 'stale-connection') return answer;
    }
    throw new TransportError(awsCallErrorCodes.network, `every kept-alive connection to ${this.endpoint.host} had been closed by the server`);
  }

  private exchangeOnce(body: Buffer, headers: Record<string, string>): Promise<HttpAnswer | 'stale-connection'> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let responded = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        settle();
      };
      const req = this.transport.request({
        agent: this.agent,
        method: 'POST',
        hostname: requestHostname(this.endpoint),
        port: this.endpoint.port,
        path: this.endpoint.pathname,
        headers,
      });
      const fail = (error: Error) => {
        const code = (error as NodeJS.ErrnoException).code;
        const stale = req.reusedSocket && !responded && (code === 'ECONNRESET' || code === 'EPIPE');
        finish(() => (stale ? resolve('stale-connection') : reject(error)));
      };
      timers.push(
        setTimeout(() => req.destroy(new TransportError(awsCallErrorCodes.timeout, `no complete answer within ${this.requestTimeoutMillis} ms`)), this.requestTimeoutMillis),
      );
      req.on('socket', (socket) => {
        if (!socket.connecting) return; // a kept-alive connection
        const connectTimer = setTimeout(
          () => req.destroy(new TransportError(awsCallErrorCodes.timeout, `no connection to ${this.endpoint.host} within ${this.connectTimeoutMillis} ms`)),
          this.connectTimeoutMillis,
        );
        timers.push(connectTimer);
        socket.once(this.transport === https ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', fail);
      req.on('response', (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) req.destroy(new TransportError(awsCallErrorCodes.badResponse, `answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })));
      });
      req.end(body);
    });
  }
}

export function badResponse(message: string): RetryOutcome {
  // The service may have stored some records: re-sending risks duplicates, never loss.
  return { kind: 'retry', code: awsCallErrorCodes.badResponse, message, throttled: false };
}

/** CBOR when the answer's Content-Type says so; JSON otherwise (AWS JSON, `application/json`, none). */
function answerProtocolOf(answer: HttpAnswer): WireProtocol {
  return wireProtocolOf(answer.headers['content-type']) ?? 'json';
}

/**
 * The AWS error code and message of a failed call: the body's `__type` (JSON or CBOR, with any
 * `namespace#` prefix dropped) or the `x-amzn-ErrorType` header (`Code:uri`); AWS's XML answers to
 * unroutable requests name the code as the root element. Anything else is `HTTP_<status>`.
 */
export function readAwsError(answer: HttpAnswer): { code: string; message: string } {
  let parsed: unknown;
  try {
    parsed = decodeAwsBody(answer.body, answerProtocolOf(answer));
  } catch {
    parsed = undefined;
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const rawCode = typeof fields.__type === 'string' ? fields.__type : headerText(answer.headers['x-amzn-errortype']) ?? /<(\w+Exception)\b/.exec(answer.body.toString('utf8'))?.[1];
  const code = rawCode === undefined ? `HTTP_${answer.status}` : rawCode.split(':')[0]!.split('#').pop()!.trim();
  const rawMessage = fields.message ?? fields.Message;
  const message = typeof rawMessage === 'string' && rawMessage !== '' ? rawMessage : `HTTP ${answer.status}`;
  return { code, message };
}

/**
 * The host to connect to for `url`, as http.request's `hostname` wants it: an IPv6 literal
 * without the brackets the URL keeps (`[::1]` → `::1`), which would otherwise be looked up as a name.
 */
export function requestHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeSystemError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === undefined || message.includes(code)) return message || String(error);
  // Node 20 reports a refused dual-stack connect as an AggregateError with an empty message.
  return message === '' ? code : `${code}: ${message}`;
}
