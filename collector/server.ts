/**
 * The collector's HTTP front end: one TCP port for HTTP/1.1, cleartext HTTP/2 and (with a
 * certificate) TLS, speaking the AWS JSON 1.1 and CBOR 1.1 protocols of Kinesis and Firehose.
 *
 * Cleartext connections are sniffed: the HTTP/2 connection preface (RFC 9113 §3.4, "prior
 * knowledge" — what the AWS SDK for JavaScript v3's default NodeHttp2Handler sends, also to
 * http:// endpoints) goes to an `http2` server, anything else to an `http` server. With TLS, ALPN
 * chooses. Both protocols reach one request handler through Node's HTTP/2 compatibility API.
 *
 * A request goes: method → content type → X-Amz-Target → body (capped) → SigV4 over the bytes as
 * transmitted → Content-Encoding undone (capped again) → JSON/CBOR decoded (PutRecords by the
 * dispatcher's own readers) → dispatcher → the answer encoded in the request's protocol. AWS
 * checks the content type and target before the signature (kinesalite's test/connection.js
 * records its answers, which we repeat), but we verify the signature before inflating or parsing
 * a body, so an unsigned request cannot make the collector decompress or parse anything. Only
 * requests that are both unsigned and malformed see a different error from AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { EventStreamOutput, WireAnswer, type Dispatcher } from './api/operation.js';
import type { Identity } from './auth.js';
import { decodeAwsBody, encodeAwsBody, encodeAwsError, mediaTypeOf, wireProtocolOf, type WireProtocol } from '../shared/aws-wire.js';
import { AwsError } from '../shared/errors.js';
import { eventStreamContentType } from '../shared/event-stream.js';
import type { SignableRequest } from '../shared/sigv4.js';
import { ZstdError, zstdDecompress } from '../shared/zstd.js';

export interface ServerOptions {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  dispatcher: Dispatcher;
  /** Verifies SigV4 and says who signed; absent, the API is open. Throws AwsError. */
  authenticate?: (req: SignableRequest) => Identity;
  /** An HTTP/1.1 Upgrade request (MQTT over WebSocket); returns false for paths it does not serve. */
  upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** JSON APIs beside the AWS protocols, by path prefix (the MQTT rules API). SigV4 applies as for the AWS API. */
  routes?: JsonRoute[];
  /** GET /health answers this as JSON. */
  health: () => unknown;
  /** GET /metrics answers this as Prometheus text. */
  metrics: () => string;
  log: (event: string, fields: Record<string, unknown>) => void;
  /** Largest request body, both as transmitted and after Content-Encoding is undone. */
  maxBodyBytes?: number;
  timeouts?: Partial<ServerTimeouts>;
}

export interface JsonRoute {
  prefix: string;
  /** Throws AwsError for errors; answers `body` as JSON (no body for undefined). */
  handle(request: { method: string; path: string; body: unknown; identity: Identity | undefined }): Promise<{ status: number; body?: unknown }>;
}

export interface ServerTimeouts {
  /** From connecting (or the previous response) to the end of a request's headers. */
  headersMs: number;
  /** From a request's start to the end of its body. */
  requestMs: number;
  /** An HTTP/1.1 keep-alive connection or HTTP/2 session without requests is closed after this. */
  idleMs: number;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * PutRecords carries up to 5 MiB of data (Kinesis quota), about 6.7 MiB as base64 in JSON;
 * 16 MiB leaves room for any valid request while bounding what one request can hold in memory.
 */
export const defaultMaxBodyBytes = 16 * 1024 * 1024;

export const defaultTimeouts: ServerTimeouts = {
  headersMs: 20_000,
  // 16 MiB over a 1 Mbit/s uplink takes about two minutes.
  requestMs: 150_000,
  // Longer than the SDKs' usual request spacing, so agents keep their connections.
  idleMs: 60_000,
};

/** Node's own default for HTTP/1.1 headers (--max-http-header-size), applied to HTTP/2 too. */
const maxHeaderBytes = 16 * 1024;
/** How long close() lets requests in flight finish before it cuts their connections. */
const shutdownGraceMs = 5_000;
const http2Settings: http2.Settings = {
  // Agents pipeline PutRecords over one session; this bounds the work one client can queue.
  maxConcurrentStreams: 256,
  // The default 64 KiB window would allow one 64 KiB round trip per stream: 1.3 MB/s at 50 ms RTT.
  initialWindowSize: 1024 * 1024,
  maxHeaderListSize: maxHeaderBytes,
};
/** Connection-level receive window of an HTTP/2 session, shared by its streams. */
const http2SessionWindowBytes = 8 * 1024 * 1024;

const http2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** `Service_Version.Operation`; which services and operations exist is the dispatcher's call. */
const targetPattern = /^[A-Za-z0-9_]+\.[A-Za-z0-9]+$/;
/** AWS's message for InternalFailure (AWS API reference, "Common Errors"). */
const internalFailureMessage = 'The request processing has failed because of an unknown error, exception or failure.';

type ApiRequest = http.IncomingMessage | http2.Http2ServerRequest;
type ApiResponse = http.ServerResponse | http2.Http2ServerResponse;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const connections = new Set<Socket>();
  const sniffing = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let closing = false;
  /** Event streams in flight; shutdown ends them, as they would otherwise hold their connections for minutes. */
  const eventStreams = new Set<AbortController>();
  const handleRequest = createRequestHandler(options, timeouts, () => closing, eventStreams);
  // Node checks header and request deadlines on this interval (default 30 s).
  const connectionsCheckingInterval = Math.min(1_000, timeouts.headersMs / 4);

  let listener: NetServer;
  if (options.tls) {
    const secure = http2.createSecureServer(
      { cert: options.tls.cert, key: options.tls.key, allowHTTP1: true, settings: http2Settings, handshakeTimeout: timeouts.headersMs },
      handleRequest,
    );
    // The HTTP/1.1 fallback reads these from the server as http.Server does.
    Object.assign(secure, { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, keepAliveTimeout: timeouts.idleMs, connectionsCheckingInterval });
    trackSessions(secure, sessions, timeouts.idleMs, options.log);
    listener = secure;
  } else {
    const http1Server = http.createServer(
      {
        headersTimeout: timeouts.headersMs,
        requestTimeout: timeouts.requestMs,
        keepAliveTimeout: timeouts.idleMs,
        maxHeaderSize: maxHeaderBytes,
        connectionsCheckingInterval,
      },
      handleRequest,
    );
    const http2Server = http2.createServer({ settings: http2Settings }, handleRequest);
    trackSessions(http2Server, sessions, timeouts.idleMs, options.log);
    routeByPreface(http1Server, http2Server, sniffing, timeouts.headersMs);
    listener = http1Server;
  }
  listener.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.upgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  listener.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port, options.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });

  return {
    port: (listener.address() as AddressInfo).port,
    async close() {
      closing = true;
      for (const stream of eventStreams) stream.abort();
      // Stops accepting; http.Server and the TLS server also drop idle HTTP/1.1 keep-alive connections.
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const socket of sniffing) socket.destroy();
      // GOAWAY: streams in flight finish, then the session ends.
      for (const session of sessions) session.close();
      const cutOff = setTimeout(() => {
        for (const socket of connections) socket.destroy();
      }, shutdownGraceMs);
      await closed;
      clearTimeout(cutOff);
    },
  };
}

/**
 * Takes over the cleartext listener's connections: reads until the bytes either are the HTTP/2
 * preface or cannot be, puts them back and hands the socket to the server for that protocol.
 */
function routeByPreface(http1Server: http.Server, http2Server: http2.Http2Server, sniffing: Set<Socket>, timeoutMs: number): void {
  const serveHttp1 = http1Server.listeners('connection') as Array<(socket: Socket) => void>;
  http1Server.removeAllListeners('connection');
  http1Server.on('connection', (socket: Socket) => {
    sniffing.add(socket);
    let seen: Buffer = Buffer.alloc(0);
    const silent = setTimeout(() => socket.destroy(), timeoutMs);
    const stopSniffing = (): void => {
      clearTimeout(silent);
      sniffing.delete(socket);
      socket.off('data', onData);
      socket.off('error', onError);
    };
    // A client that resets before its first request: nothing to answer, nobody to tell.
    const onError = (): void => {
      stopSniffing();
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, http2Preface.length);
      const prefaceSoFar = seen.subarray(0, compared).equals(http2Preface.subarray(0, compared));
      if (prefaceSoFar && seen.length < http2Preface.length) return;
      stopSniffing();
      socket.pause();
      socket.unshift(seen);
      if (prefaceSoFar) {
        // The session reads what is buffered on the socket, then takes its handle.
        http2Server.emit('connection', socket);
      } else {
        for (const serve of serveHttp1) serve.call(http1Server, socket);
        // The HTTP/1.1 parser takes new bytes from the handle; this flushes the sniffed ones first.
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', stopSniffing);
  });
}

function trackSessions(
  server: http2.Http2Server | http2.Http2SecureServer,
  sessions: Set<http2.ServerHttp2Session>,
  idleMs: number,
  log: ServerOptions['log'],
): void {
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setTimeout(idleMs, () => session.close());
    session.setLocalWindowSize(http2SessionWindowBytes);
  });
  // Protocol errors of one client's session; Node destroys the session, others carry on.
  server.on('sessionError', (error: Error) => log('http2.session-error', { error: String(error) }));
}

/** The request ended without its body: the client reset the stream or closed the connection. */
class ClientWentAway extends Error {}

function createRequestHandler(
  options: ServerOptions,
  timeouts: ServerTimeouts,
  isClosing: () => boolean,
  eventStreams: Set<AbortController>,
): (req: ApiRequest, res: ApiResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;

  async function serve(req: ApiRequest, res: ApiResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    res.setHeader('x-amz-id-2', randomBytes(72).toString('base64'));
    const { path, query } = splitUrl(req.url);

    if (req.method === 'GET' && (path === '/health' || path === '/metrics')) {
      try {
        if (path === '/health') reply(res, 200, 'application/json', Buffer.from(JSON.stringify(options.health())));
        else reply(res, 200, 'text/plain; version=0.0.4', Buffer.from(options.metrics()));
      } catch (error) {
        options.log('ops.internal-error', { requestId, path, error: String(error), stack: (error as Error).stack });
        reply(res, 500, 'text/plain', Buffer.from('internal error\n'));
      }
      return;
    }

    const route = options.routes?.find((candidate) => path === candidate.prefix || path.startsWith(`${candidate.prefix}/`));
    if (route) return serveJsonRoute(route, req, res, path, query, requestId);

    // AWS answers what it cannot route in XML, without a content type (kinesalite's
    // test/connection.js records these answers from the real service).
    if (req.method !== 'POST') return replyAccessDenied(res);
    const contentType = headerValue(req, 'content-type');
    const protocol = wireProtocolOf(contentType);
    const target = headerValue(req, 'x-amz-target') ?? '';
    if (protocol === undefined) {
      return targetPattern.test(target) ? replyRaw(res, 404, Buffer.from('<UnknownOperationException/>\n')) : replyAccessDenied(res);
    }
    const responseContentType = mediaTypeOf(contentType);

    try {
      if (!targetPattern.test(target)) throw new AwsError('UnknownOperationException', '');
      const transmitted = await readBody(req, maxBodyBytes, timeouts.requestMs);
      const identity = options.authenticate?.({ method: req.method, path, query, headers: headersAsTransmitted(req), body: transmitted });
      const body = await undoContentEncoding(transmitted, headerValue(req, 'content-encoding'), maxBodyBytes);
      const input = options.dispatcher.readInput?.(target, body, protocol) ?? decodeAwsBody(body, protocol);
      const output = await options.dispatcher.dispatch({ target, input, protocol, identity, requestId });
      if (output instanceof EventStreamOutput) return await streamEvents(res, output, requestId, target);
      reply(res, 200, responseContentType, output instanceof WireAnswer ? output.encode(protocol) : encodeAwsBody(output, protocol));
    } catch (error) {
      if (error instanceof ClientWentAway) return;
      await replyError(req, res, error, protocol, responseContentType, requestId, target);
    }
  }

  async function serveJsonRoute(route: JsonRoute, req: ApiRequest, res: ApiResponse, path: string, query: string, requestId: string): Promise<void> {
    try {
      const transmitted = await readBody(req, maxBodyBytes, timeouts.requestMs);
      const identity = options.authenticate?.({ method: req.method ?? 'GET', path, query, headers: headersAsTransmitted(req), body: transmitted });
      let body: unknown;
      if (transmitted.length > 0) {
        try {
          body = JSON.parse(transmitted.toString('utf8'));
        } catch {
          throw new AwsError('SerializationException', 'Request body is not valid JSON.');
        }
      }
      const answer = await route.handle({ method: req.method ?? 'GET', path, body, identity });
      if (answer.body === undefined) replyRaw(res, answer.status, Buffer.alloc(0));
      else reply(res, answer.status, 'application/json', Buffer.from(JSON.stringify(answer.body)));
    } catch (error) {
      if (error instanceof ClientWentAway) return;
      await replyError(req, res, error, 'json', 'application/json', requestId, path);
    }
  }

  async function replyError(req: ApiRequest, res: ApiResponse, error: unknown, protocol: WireProtocol, contentType: string, requestId: string, target: string): Promise<void> {
    if (!(error instanceof AwsError)) {
      options.log('api.internal-error', { requestId, target, error: String(error), stack: (error as Error | undefined)?.stack });
    }
    const { code, message, status } = error instanceof AwsError ? error : new AwsError('InternalFailure', internalFailureMessage);
    // A body we stopped reading: HTTP/1.1 reads and discards the rest after the response (no
    // reset that could swallow the answer); an HTTP/2 stream is simply ended (RFC 9113 §8.1).
    const bodyLeftUnread = code === 'RequestEntityTooLargeException' || code === 'RequestTimeoutException';
    if (code === 'RequestTimeoutException' && !(req instanceof http2.Http2ServerRequest)) res.setHeader('connection', 'close');
    // A client that sent `Connection: close` has its socket closed right after the response; if
    // its body is still arriving, the kernel answers with a reset that can swallow the 413. So
    // read the rest first, for a bounded time.
    if (code === 'RequestEntityTooLargeException' && req instanceof http.IncomingMessage && !req.complete) await discardBody(req, DISCARD_BODY_MS);
    reply(res, status, contentType, encodeAwsError(code, message, protocol));
    // With NO_ERROR the reset waits until the response is sent.
    if (bodyLeftUnread && req instanceof http2.Http2ServerRequest) req.stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  /** Sends the 200 and the event stream's messages as they come; the body ends when the producer returns. */
  async function streamEvents(res: ApiResponse, output: EventStreamOutput, requestId: string, target: string): Promise<void> {
    const controller = new AbortController();
    eventStreams.add(controller);
    const abort = (): void => controller.abort();
    res.once('close', abort);
    res.setHeader('content-type', eventStreamContentType);
    if (isClosing() && res instanceof http.ServerResponse) res.setHeader('connection', 'close');
    res.writeHead(200);
    const write = (message: Buffer): Promise<void> => {
      if (controller.signal.aborted) return Promise.resolve();
      if ((res as http.ServerResponse).write(message)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          controller.signal.removeEventListener('abort', done);
          resolve();
        };
        res.once('drain', done);
        controller.signal.addEventListener('abort', done);
      });
    };
    try {
      await output.produce({ write, signal: controller.signal });
    } catch (error) {
      // The producer reports its own failures as exception events; this is a bug, so the stream is cut.
      options.log('api.event-stream-error', { requestId, target, error: String(error), stack: (error as Error).stack });
    } finally {
      eventStreams.delete(controller);
      res.off('close', abort);
      if (!res.writableEnded) res.end();
    }
  }

  function reply(res: ApiResponse, status: number, contentType: string, body: Buffer): void {
    res.setHeader('content-type', contentType);
    replyRaw(res, status, body);
  }

  function replyRaw(res: ApiResponse, status: number, body: Buffer): void {
    // While closing, an HTTP/1.1 connection ends with its response rather than idling until cut.
    if (isClosing() && res instanceof http.ServerResponse) res.setHeader('connection', 'close');
    res.statusCode = status;
    res.setHeader('content-length', body.length);
    res.end(body);
  }

  function replyAccessDenied(res: ApiResponse): void {
    const message = 'Unable to determine service/operation name to be authorized';
    replyRaw(res, 403, Buffer.from(`<AccessDeniedException>\n  <Message>${message}</Message>\n</AccessDeniedException>\n`));
  }

  return (req, res) => {
    serve(req, res).catch((error: unknown) => {
      // Only writing the answer can fail here, e.g. on a stream the client already reset.
      options.log('http.response-error', { error: String(error) });
    });
  };
}

function splitUrl(url: string | undefined): { path: string; query: string } {
  const target = url ?? '/';
  const mark = target.indexOf('?');
  return mark === -1 ? { path: target, query: '' } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}

function headerValue(req: ApiRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Headers as the client sent them, for SigV4: repeated headers as arrays (Node joins some with
 * ', ', SigV4 with ','), and over HTTP/2 the pseudo-headers, `:authority` among them.
 */
function headersAsTransmitted(req: ApiRequest): Record<string, string | string[]> {
  const headers = Object.create(null) as Record<string, string | string[]>;
  const raw = req.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    const value = raw[index + 1]!;
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
  }
  return headers;
}

/** How long an oversized HTTP/1.1 body is read and dropped before the 413 goes out. */
const DISCARD_BODY_MS = 10_000;

function discardBody(req: http.IncomingMessage, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    req.once('end', done);
    req.once('close', done);
    req.resume();
  });
}

/**
 * The body as one Buffer (chunks are concatenated once, at the end). Past `maxBytes` it fails
 * at once with 413 and ignores the rest; a body still incomplete after `timeoutMs` fails with 408.
 * (AWS answers an oversized request with a bare 413; ours also names the limit in an AWS error.)
 */
function readBody(req: ApiRequest, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const tooLarge = (): AwsError => new AwsError('RequestEntityTooLargeException', `Request body is larger than ${maxBytes} bytes.`);
  return new Promise((resolve, reject) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (outcome: Buffer | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      chunks.length = 0;
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const deadline = setTimeout(() => settle(new AwsError('RequestTimeoutException', `Request body not received within ${timeoutMs} ms.`)), timeoutMs);
    if (Number(req.headers['content-length']) > maxBytes) settle(tooLarge());

    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) return settle(tooLarge());
      chunks.push(chunk);
    });
    req.on('end', () => {
      // HTTP/2 compatibility ends the request also when the client resets the stream.
      if (req.aborted) return settle(new ClientWentAway());
      settle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    });
    // 'close' follows every request, also a complete one: no error object (and stack) unless it counts.
    const wentAway = (): void => {
      if (!settled) settle(new ClientWentAway());
    };
    req.on('error', wentAway);
    req.on('close', wentAway);
  });
}

const gunzipAsync = promisify(gunzip);
const supportedEncodings = 'gzip, zstd';

/** Undoes each listed coding, last applied first (RFC 9110 §8.4), never producing more than `maxBytes`. */
async function undoContentEncoding(body: Buffer, header: string | undefined, maxBytes: number): Promise<Buffer> {
  const codings = (header ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  let decoded = body;
  for (const coding of codings.reverse()) decoded = await undoCoding(decoded, coding, maxBytes);
  return decoded;
}

async function undoCoding(body: Buffer, coding: string, maxBytes: number): Promise<Buffer> {
  const tooLarge = (): AwsError => new AwsError('RequestEntityTooLargeException', `Request body decompresses to more than ${maxBytes} bytes.`);
  switch (coding) {
    case 'gzip':
    case 'x-gzip': // RFC 9110 §8.4.1.3: a recipient SHOULD treat x-gzip as gzip
      try {
        return await gunzipAsync(body, { maxOutputLength: maxBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
        throw new AwsError('SerializationException', 'Request body is not valid gzip.');
      }
    case 'zstd':
      try {
        return await zstdDecompress(body, maxBytes);
      } catch (error) {
        if (!(error instanceof ZstdError) || error.code === 'ZSTD_OUT_OF_MEMORY') throw error;
        if (error.code === 'ZSTD_TOO_LARGE') throw tooLarge();
        throw new AwsError('SerializationException', `Request body is not usable zstd: ${error.message}`);
      }
    default:
      // RFC 9110 §15.5.16: 415 for a content coding the server does not support.
      throw new AwsError('SerializationException', `Unsupported Content-Encoding '${coding}'; supported: ${supportedEncodings}.`, 415);
  }
}
