/**
 * The HTTP front end in-process, against a stub dispatcher: these tests are about transports,
 * framing, codecs and limits, so the stub only echoes, fails or waits on demand. The real
 * dispatcher and operations are tested end to end through the collector process (test/e2e).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DescribeStreamSummaryCommand, KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decode as decodeCborBytes, encode as encodeCborBytes, Tag } from 'cbor2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall, Dispatcher } from '../../collector/api/operation.js';
import type { Identity } from '../../collector/auth.js';
import { startServer, type RunningServer, type ServerOptions } from '../../collector/server.js';
import { AwsError } from '../../shared/errors.js';
import type { SignableRequest } from '../../shared/sigv4.js';
import { zstdCompress } from '../../shared/zstd.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const jsonType = 'application/x-amz-json-1.1';
const cborType = 'application/x-amz-cbor-1.1';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const maxBodyBytes = 64 * 1024;
const streamNames = ['alpha', 'beta'];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Call {
  operation: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  method?: string;
  path?: string;
}

/** Lets `count` held calls proceed only once all of them are inside the dispatcher at once. */
class Barrier {
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly count: number) {}
  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === this.count) for (const release of this.waiting) release();
    });
  }
}

/** Echo answers with the input it got plus a blob and a timestamp; the rest fail on purpose. */
function stubDispatcher(calls: ApiCall[], barrier: () => Barrier): Dispatcher {
  return {
    async dispatch(call) {
      calls.push(call);
      const operation = call.target.split('.')[1];
      switch (operation) {
        case 'ListStreams':
          return { StreamNames: streamNames, HasMoreStreams: false };
        case 'Echo':
          return { Input: call.input, Blob: Buffer.from('blob bytes'), At: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), Absent: undefined };
        case 'NoOutput':
          return undefined;
        case 'Hold':
          await barrier().arrive();
          return { Index: (call.input as { Index: number }).Index };
        case 'DescribeStreamSummary':
          throw new AwsError('ResourceNotFoundException', 'Stream nowhere under account 000000000000 not found.');
        case 'Crash':
          throw new Error('stub dispatcher crashed');
        default:
          throw new AwsError('UnknownOperationException', '');
      }
    },
  };
}

function target(operation: string): string {
  return operation === 'ListStreams' || operation === 'DescribeStreamSummary' ? `Kinesis_20131202.${operation}` : `Test_20260101.${operation}`;
}

function requestHeaders(call: Call): Record<string, string> {
  return { 'content-type': jsonType, 'x-amz-target': target(call.operation), ...call.headers };
}

function sendHttp1(port: number, call: Call, agent: http.Agent | false = false): Promise<Answer & { reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const body = call.body === undefined ? undefined : Buffer.from(call.body);
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: call.method ?? 'POST',
        path: call.path ?? '/',
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...requestHeaders(call) },
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), reusedSocket: request.reusedSocket }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function sendHttp2(session: http2.ClientHttp2Session, call: Call): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': call.method ?? 'POST', ':path': call.path ?? '/', ...requestHeaders(call) });
    let status = 0;
    let headers: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    stream.on('response', (responseHeaders) => {
      status = Number(responseHeaders[':status']);
      headers = responseHeaders;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.end(call.body === undefined ? undefined : Buffer.from(call.body));
  });
}

function connectHttp2(authority: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, options);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => session.close(() => resolve()));
}

function json(answer: Answer): Record<string, any> {
  return JSON.parse(answer.body.toString('utf8')) as Record<string, any>;
}

function sdkClient(port: number, requestHandler?: NodeHttpHandler): KinesisClient {
  return new KinesisClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
    ...(requestHandler ? { requestHandler } : {}),
  });
}

/** A raw TCP connection to the server; resolves once connected. */
function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the server has closed the connection (reading, so that its end is seen). */
function closed(socket: net.Socket): Promise<void> {
  socket.on('error', () => undefined);
  socket.resume();
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

/** Everything the server sends until it closes the connection. */
function readUntilClosed(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return closed(socket).then(() => Buffer.concat(chunks).toString('latin1'));
}

describe('collector HTTP server', () => {
  const calls: ApiCall[] = [];
  const signed: SignableRequest[] = [];
  const logged: Array<{ event: string; fields: Record<string, unknown> }> = [];
  let barrier = new Barrier(1);
  let server: RunningServer;

  function options(overrides: Partial<ServerOptions> = {}): ServerOptions {
    return {
      host: '127.0.0.1',
      port: 0,
      dispatcher: stubDispatcher(calls, () => barrier),
      health: () => ({ status: 'ok', streams: streamNames.length }),
      metrics: () => 'kinesis_IncomingRecords{StreamName="alpha"} 3\n',
      log: (event, fields) => logged.push({ event, fields }),
      maxBodyBytes,
      ...overrides,
    };
  }

  beforeAll(async () => {
    server = await startServer(
      options({
        // Records what SigV4 verification would see; rejects requests marked unsigned.
        authenticate(req): Identity {
          signed.push(req);
          if (req.headers['x-test-unsigned'] !== undefined) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
          return { accessKeyId: 'AKIDTEST', name: 'tester', userArn: 'arn:aws:iam::000000000000:user/tester', policy: undefined };
        },
      }),
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  function lastCall(): ApiCall {
    return calls[calls.length - 1]!;
  }

  function lastSigned(): SignableRequest {
    return signed[signed.length - 1]!;
  }

  describe('transports', () => {
    it('serves HTTP/1.1 with keep-alive and a fresh request id per request', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}' }, agent);
        const second = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}' }, agent);
        expect(second.reusedSocket).toBe(true);
        for (const answer of [first, second]) {
          expect(answer.status).toBe(200);
          expect(answer.headers['content-type']).toBe(jsonType);
          expect(json(answer)).toEqual({ StreamNames: streamNames, HasMoreStreams: false });
          expect(answer.headers['x-amzn-requestid']).toMatch(uuidPattern);
          expect(Buffer.from(String(answer.headers['x-amz-id-2']), 'base64').length).toBe(72);
        }
        expect(first.headers['x-amzn-requestid']).not.toBe(second.headers['x-amzn-requestid']);
        expect(lastCall()).toMatchObject({ target: 'Kinesis_20131202.ListStreams', protocol: 'json', requestId: second.headers['x-amzn-requestid'] });
        expect(lastCall().identity).toMatchObject({ accessKeyId: 'AKIDTEST', name: 'tester', policy: undefined });
      } finally {
        agent.destroy();
      }
    });

    it('serves cleartext HTTP/2 with prior knowledge, many streams at once on one session', async () => {
      const session = await connectHttp2(`http://127.0.0.1:${server.port}`);
      try {
        const concurrent = 50;
        barrier = new Barrier(concurrent);
        const answers = await Promise.all(
          Array.from({ length: concurrent }, (_, index) => sendHttp2(session, { operation: 'Hold', body: JSON.stringify({ Index: index }) })),
        );
        expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
        expect(answers.map((answer) => json(answer).Index)).toEqual(answers.map((_, index) => index));
        expect(new Set(answers.map((answer) => answer.headers['x-amzn-requestid'])).size).toBe(concurrent);
        // HTTP/2 names the host `:authority`; SigV4 verification gets the headers as sent.
        expect(lastSigned().headers[':authority']).toBe(`127.0.0.1:${server.port}`);
      } finally {
        await closeSession(session);
      }
    });

    it('reads an HTTP/1.1 request that arrives a byte at a time', async () => {
      const socket = await rawSocket(server.port);
      socket.setNoDelay(true);
      const answer = readUntilClosed(socket);
      const body = '{}';
      const request =
        `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${jsonType}\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
      for (const byte of request) await new Promise<void>((resolve) => socket.write(byte, () => resolve()));
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ StreamNames: streamNames, HasMoreStreams: false });
    });

    it('serves the AWS SDK v3 Kinesis client over its default HTTP/2 handler and over HTTP/1.1', async () => {
      const overHttp2 = sdkClient(server.port);
      const overHttp1 = sdkClient(server.port, new NodeHttpHandler());
      try {
        for (const [client, hostHeader] of [
          [overHttp2, ':authority'],
          [overHttp1, 'host'],
        ] as const) {
          const listed = await client.send(new ListStreamsCommand({}));
          expect(listed.StreamNames).toEqual(streamNames);
          expect(lastSigned().headers[hostHeader]).toBe(`127.0.0.1:${server.port}`);
          const failure = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'nowhere' })).then(
            () => undefined,
            (error: unknown) => error as { name: string; $metadata: { httpStatusCode?: number } },
          );
          expect(failure?.name).toBe('ResourceNotFoundException');
          expect(failure?.$metadata.httpStatusCode).toBe(400);
        }
      } finally {
        overHttp2.destroy();
        overHttp1.destroy();
      }
    });

    it('serves HTTP/2 and HTTP/1.1 over TLS on one port, chosen by ALPN', async (context) => {
      let certificate: { cert: Buffer; key: Buffer };
      const dir = await makeTempDir('riffle-server-tls-');
      try {
        try {
          execFileSync('openssl', [
            'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
            '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
            '-keyout', join(dir.path, 'key.pem'), '-out', join(dir.path, 'cert.pem'),
          ], { stdio: 'ignore' });
        } catch {
          context.skip('openssl is not available to make a certificate');
        }
        certificate = { cert: await readFile(join(dir.path, 'cert.pem')), key: await readFile(join(dir.path, 'key.pem')) };
      } finally {
        await dir.remove();
      }
      const secure = await startServer(options({ tls: certificate }));
      const session = await connectHttp2(`https://127.0.0.1:${secure.port}`, { ca: certificate.cert });
      try {
        expect(session.alpnProtocol).toBe('h2');
        const overHttp2 = await sendHttp2(session, { operation: 'ListStreams', body: '{}' });
        expect(overHttp2.status).toBe(200);
        expect(json(overHttp2).StreamNames).toEqual(streamNames);

        const overHttp1 = await new Promise<Answer>((resolve, reject) => {
          const request = https.request(
            { host: '127.0.0.1', port: secure.port, method: 'POST', path: '/', ca: certificate.cert, agent: false, headers: requestHeaders({ operation: 'ListStreams' }) },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
            },
          );
          request.on('error', reject);
          request.end('{}');
        });
        expect(overHttp1.status).toBe(200);
        expect(json(overHttp1).StreamNames).toEqual(streamNames);
      } finally {
        await closeSession(session);
        await secure.close();
      }
    });
  });

  describe('AWS JSON 1.1', () => {
    it('decodes the body, and encodes blobs as base64, timestamps as epoch seconds, without undefined members', async () => {
      const input = { StreamName: 'alpha', Limit: 3, Nested: { List: [1, 'two'] } };
      const answer = await sendHttp1(server.port, { operation: 'Echo', body: JSON.stringify(input) });
      expect(answer.status).toBe(200);
      expect(lastCall().input).toEqual(input);
      const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
      expect(answer.body.toString('utf8')).toBe(JSON.stringify({ Input: input, Blob: Buffer.from('blob bytes').toString('base64'), At: at / 1000 }));
    });

    it('takes an empty body as an empty structure and answers an operation without output with an empty body', async () => {
      await sendHttp1(server.port, { operation: 'Echo' });
      expect(lastCall().input).toEqual({});
      const answer = await sendHttp1(server.port, { operation: 'NoOutput', body: '{}' });
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(0);
    });

    it('answers malformed JSON and non-structures with SerializationException, without a message', async () => {
      for (const body of ['{"StreamName": ', 'not json', '[1,2]', '"text"', 'null']) {
        const answer = await sendHttp1(server.port, { operation: 'Echo', body });
        expect(answer.status).toBe(400);
        expect(json(answer)).toEqual({ __type: 'SerializationException' });
      }
    });

    it('accepts application/json and x-amz-json-1.0, and answers in the same content type', async () => {
      for (const contentType of ['application/json', 'application/x-amz-json-1.0', `${jsonType}; charset=utf-8`]) {
        const answer = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}', headers: { 'content-type': contentType } });
        expect(answer.status).toBe(200);
        expect(answer.headers['content-type']).toBe(contentType.split(';')[0]);
      }
    });
  });

  describe('AWS CBOR 1.1', () => {
    // As the Java SDK writes it: plain maps, byte strings, tag 1 around integer epoch milliseconds.
    // cbor2 is independent of the collector's codec. ignoreGlobalTags: it would read tag 1 as seconds.
    const encoder = { encode: (value: unknown) => Buffer.from(encodeCborBytes(value)) };
    const decoder = { decode: (bytes: Buffer) => decodeCborBytes(bytes, { ignoreGlobalTags: true }) };

    function tag1Milliseconds(ms: number): Buffer {
      const value = Buffer.alloc(8);
      value.writeBigUInt64BE(BigInt(ms));
      return Buffer.concat([Buffer.from([0xc1, 0x1b]), value]);
    }

    it('decodes byte strings to Buffers and tag 1 milliseconds to Dates, and encodes them back the same way', async () => {
      const data = randomBytes(32);
      const timestampMs = Date.UTC(2025, 6, 1, 12, 0, 0, 250);
      const body = encoder.encode({ StreamName: 'alpha', Data: new Uint8Array(data), Timestamp: new Tag(1, timestampMs) });
      const answer = await sendHttp1(server.port, { operation: 'Echo', body, headers: { 'content-type': cborType } });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe(cborType);

      const input = lastCall().input as { StreamName: string; Data: unknown; Timestamp: unknown };
      expect(lastCall().protocol).toBe('cbor');
      expect(Buffer.isBuffer(input.Data) && input.Data.equals(data)).toBe(true);
      expect(input.Timestamp).toEqual(new Date(timestampMs));

      const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
      expect(answer.body.includes(tag1Milliseconds(at))).toBe(true);
      expect(answer.body.includes(tag1Milliseconds(timestampMs))).toBe(true);
      const output = decoder.decode(answer.body) as { Blob: unknown; Input: { Data: unknown } };
      expect(Buffer.from(output.Blob as Uint8Array).toString()).toBe('blob bytes');
      expect(Buffer.from(output.Input.Data as Uint8Array).equals(data)).toBe(true);
      expect(Object.keys(output)).not.toContain('Absent');
    });

    it('answers errors to a CBOR request in CBOR', async () => {
      const answer = await sendHttp1(server.port, { operation: 'DescribeStreamSummary', body: encoder.encode({ StreamName: 'x' }), headers: { 'content-type': cborType } });
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toBe(cborType);
      expect(decoder.decode(answer.body)).toMatchObject({ __type: 'ResourceNotFoundException' });

      const malformed = await sendHttp1(server.port, { operation: 'Echo', body: Buffer.from([0xa1, 0x61]), headers: { 'content-type': cborType } });
      expect(malformed.status).toBe(400);
      expect(decoder.decode(malformed.body)).toEqual({ __type: 'SerializationException' });
    });
  });

  describe('compressed bodies', () => {
    const input = { StreamName: 'alpha', Records: Array.from({ length: 50 }, (_, index) => ({ PartitionKey: `key-${index}`, Data: randomBytes(64).toString('base64') })) };
    const plain = Buffer.from(JSON.stringify(input));

    it('inflates gzip and zstd bodies, and authenticates the bytes as transmitted', async () => {
      for (const [encoding, body] of [
        ['gzip', gzipSync(plain)],
        ['zstd', await zstdCompress(plain)],
      ] as const) {
        const answer = await sendHttp1(server.port, { operation: 'Echo', body, headers: { 'content-encoding': encoding } });
        expect(answer.status).toBe(200);
        expect(lastCall().input).toEqual(input);
        expect(lastSigned().body.equals(body)).toBe(true);
      }
    });

    it('refuses a body that inflates past the limit with 413', async () => {
      const zeros = Buffer.alloc(4 * 1024 * 1024);
      for (const [encoding, body] of [
        ['gzip', gzipSync(zeros)],
        ['zstd', await zstdCompress(zeros)],
      ] as const) {
        expect(body.length).toBeLessThan(maxBodyBytes);
        const answer = await sendHttp1(server.port, { operation: 'Echo', body, headers: { 'content-encoding': encoding } });
        expect(answer.status).toBe(413);
        expect(json(answer).__type).toBe('RequestEntityTooLargeException');
      }
    });

    it('answers an unknown or broken encoding with SerializationException', async () => {
      const unknown = await sendHttp1(server.port, { operation: 'Echo', body: plain, headers: { 'content-encoding': 'br' } });
      expect(unknown.status).toBe(415);
      expect(json(unknown).__type).toBe('SerializationException');
      const broken = await sendHttp1(server.port, { operation: 'Echo', body: plain, headers: { 'content-encoding': 'gzip' } });
      expect(broken.status).toBe(400);
      expect(json(broken).__type).toBe('SerializationException');
    });
  });

  describe('what AWS answers before an operation runs', () => {
    it('answers a missing or malformed target with UnknownOperationException', async () => {
      for (const headers of [{ 'x-amz-target': '' }, { 'x-amz-target': 'Kinesis_20131202' }, { 'x-amz-target': 'Kinesis_20131202.' }]) {
        const answer = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}', headers });
        expect(answer.status).toBe(400);
        expect(json(answer)).toEqual({ __type: 'UnknownOperationException' });
      }
      const unknown = await sendHttp1(server.port, { operation: 'NoSuchOperation', body: '{}' });
      expect(unknown.status).toBe(400);
      expect(json(unknown).__type).toBe('UnknownOperationException');
    });

    it('answers an unusable content type or method in XML, as AWS does', async () => {
      const wrongType = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}', headers: { 'content-type': 'text/plain' } });
      expect(wrongType.status).toBe(404);
      expect(wrongType.body.toString()).toBe('<UnknownOperationException/>\n');
      const accessDenied = '<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n';
      for (const call of [
        { operation: 'ListStreams', body: '{}', headers: { 'content-type': 'text/plain', 'x-amz-target': '' } },
        { operation: 'ListStreams', method: 'GET' },
        { operation: 'ListStreams', method: 'PUT', path: '/streams', body: '{}' },
      ]) {
        const answer = await sendHttp1(server.port, call);
        expect(answer.status).toBe(403);
        expect(answer.headers['content-type']).toBeUndefined();
        expect(answer.body.toString()).toBe(accessDenied);
      }
    });

    it('answers a failed authentication in the request protocol and does not dispatch', async () => {
      const before = calls.length;
      const answer = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}', headers: { 'x-test-unsigned': '1' } });
      expect(answer.status).toBe(400);
      expect(json(answer)).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
      expect(calls.length).toBe(before);
    });

    it('answers an unexpected failure with 500 InternalFailure and logs its stack', async () => {
      const answer = await sendHttp1(server.port, { operation: 'Crash', body: '{}' });
      expect(answer.status).toBe(500);
      expect(json(answer).__type).toBe('InternalFailure');
      const entry = logged.find((line) => line.event === 'api.internal-error' && line.fields.requestId === answer.headers['x-amzn-requestid']);
      expect(String(entry?.fields.stack)).toContain('stub dispatcher crashed');
    });

    it('serves /health as JSON and /metrics as Prometheus text', async () => {
      const health = await sendHttp1(server.port, { operation: 'ListStreams', method: 'GET', path: '/health' });
      expect(health.status).toBe(200);
      expect(health.headers['content-type']).toBe('application/json');
      expect(json(health)).toEqual({ status: 'ok', streams: streamNames.length });
      const metrics = await sendHttp1(server.port, { operation: 'ListStreams', method: 'GET', path: '/metrics' });
      expect(metrics.status).toBe(200);
      expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4');
      expect(metrics.body.toString()).toContain('kinesis_IncomingRecords{StreamName="alpha"} 3');
    });
  });

  describe('limits and misbehaving clients', () => {
    it('refuses a body over the limit with 413 and keeps the HTTP/1.1 connection and HTTP/2 session serving', async () => {
      const oversized = Buffer.alloc(maxBodyBytes + 1, 'a');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const session = await connectHttp2(`http://127.0.0.1:${server.port}`);
      try {
        const overHttp1 = await sendHttp1(server.port, { operation: 'Echo', body: oversized }, agent);
        expect(overHttp1.status).toBe(413);
        expect(json(overHttp1).__type).toBe('RequestEntityTooLargeException');
        const nextHttp1 = await sendHttp1(server.port, { operation: 'ListStreams', body: '{}' }, agent);
        expect(nextHttp1.status).toBe(200);
        expect(nextHttp1.reusedSocket).toBe(true);

        const overHttp2 = await sendHttp2(session, { operation: 'Echo', body: oversized });
        expect(overHttp2.status).toBe(413);
        expect(json(overHttp2).__type).toBe('RequestEntityTooLargeException');
        expect((await sendHttp2(session, { operation: 'ListStreams', body: '{}' })).status).toBe(200);
      } finally {
        agent.destroy();
        await closeSession(session);
      }
    });

    it('keeps serving others while a client sends half its headers, and survives garbage', async () => {
      const slow = await rawSocket(server.port);
      slow.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${jsonType}\r\n`);
      const slowPreface = await rawSocket(server.port);
      slowPreface.write('PRI * HTTP/2.0\r\n');
      const garbage = await rawSocket(server.port);
      const garbageAnswer = readUntilClosed(garbage);
      garbage.write('NOT HTTP AT ALL\r\n\r\n');
      const brokenHttp2 = await rawSocket(server.port);
      const brokenHttp2Closed = readUntilClosed(brokenHttp2);
      brokenHttp2.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(64)]));

      const session = await connectHttp2(`http://127.0.0.1:${server.port}`);
      try {
        expect((await sendHttp1(server.port, { operation: 'ListStreams', body: '{}' })).status).toBe(200);
        expect((await sendHttp2(session, { operation: 'ListStreams', body: '{}' })).status).toBe(200);
        expect(await garbageAnswer).toMatch(/^HTTP\/1\.1 400 /);
        await brokenHttp2Closed;
        expect((await sendHttp2(session, { operation: 'ListStreams', body: '{}' })).status).toBe(200);
      } finally {
        slow.destroy();
        slowPreface.destroy();
        await closeSession(session);
      }
    });
  });
});

describe('collector HTTP server timeouts and shutdown', () => {
  const quietOptions: ServerOptions = {
    host: '127.0.0.1',
    port: 0,
    dispatcher: stubDispatcher([], () => new Barrier(1)),
    health: () => ({}),
    metrics: () => '',
    log: () => undefined,
  };

  it('disconnects clients that do not finish their headers or body in time', async () => {
    const server = await startServer({ ...quietOptions, timeouts: { headersMs: 300, requestMs: 600 } });
    try {
      const silent = await rawSocket(server.port);
      const partialPreface = await rawSocket(server.port);
      partialPreface.write('PRI * HTTP');
      const partialHeaders = await rawSocket(server.port);
      partialHeaders.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const partialBody = await rawSocket(server.port);
      const partialBodyAnswer = readUntilClosed(partialBody);
      partialBody.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${jsonType}\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 100\r\n\r\n{"Limit"`);
      await Promise.all([closed(silent), closed(partialPreface), closed(partialHeaders)]);
      expect(await partialBodyAnswer).toMatch(/^HTTP\/1\.1 408 /);

      const session = await connectHttp2(`http://127.0.0.1:${server.port}`);
      try {
        const stream = session.request({ ':method': 'POST', ':path': '/', 'content-type': jsonType, 'x-amz-target': 'Kinesis_20131202.ListStreams' });
        stream.write('{"Limit"');
        const status = await new Promise<number>((resolve) => stream.on('response', (headers) => resolve(Number(headers[':status']))));
        expect(status).toBe(408);
        stream.destroy();
      } finally {
        session.destroy();
      }
    } finally {
      await server.close();
    }
  });

  it('close() ends idle keep-alive connections and HTTP/2 sessions without waiting for them', async () => {
    const server = await startServer({ ...quietOptions, timeouts: { idleMs: 60_000 } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const session = await connectHttp2(`http://127.0.0.1:${server.port}`);
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const sniffing = await rawSocket(server.port);
    try {
      expect((await sendHttp1(server.port, { operation: 'ListStreams', body: '{}' }, agent)).status).toBe(200);
      expect((await sendHttp2(session, { operation: 'ListStreams', body: '{}' })).status).toBe(200);
      const started = Date.now();
      await server.close();
      await Promise.all([sessionClosed, closed(sniffing)]);
      // Well under the 5 s grace that in-flight requests would get.
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      agent.destroy();
      session.destroy();
    }
  });

  it('close() lets requests in flight finish, then ends their connections', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const inside = new Barrier(3);
    const dispatcher: Dispatcher = {
      async dispatch() {
        void inside.arrive();
        await released;
        return { Finished: true };
      },
    };
    const server = await startServer({ ...quietOptions, dispatcher });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const session = await connectHttp2(`http://127.0.0.1:${server.port}`);
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    try {
      const overHttp1 = sendHttp1(server.port, { operation: 'ListStreams', body: '{}' }, agent);
      const overHttp2 = sendHttp2(session, { operation: 'ListStreams', body: '{}' });
      await inside.arrive();
      const started = Date.now();
      const closing = server.close();
      release();
      const [answer1, answer2] = await Promise.all([overHttp1, overHttp2]);
      expect([answer1.status, answer2.status]).toEqual([200, 200]);
      expect(json(answer2)).toEqual({ Finished: true });
      expect(answer1.headers.connection).toBe('close');
      await Promise.all([closing, sessionClosed]);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      agent.destroy();
      session.destroy();
    }
  });
});
