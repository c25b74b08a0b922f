/**
 * A local HTTPS server standing in for what a Firehose destination posts to (an HTTP endpoint,
 * an OpenSearch cluster, Splunk HEC) — those services cannot run here. It has a throwaway
 * certificate (openssl), which a collector trusts when started with NODE_EXTRA_CA_CERTS =
 * `certPath` (Firehose's model demands https:// endpoints). Every request is recorded; `answer`
 * decides the response.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { makeThrowawayCertificate } from './throwaway-certificate.js';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body, gunzipped when sent with Content-Encoding: gzip. */
  body: Buffer;
}

export interface HttpsReceiver {
  certPath: string;
  received: ReceivedRequest[];
  url(path: string): string;
  close(): Promise<void>;
}

export async function startHttpsReceiver(dir: string, answer: (request: ReceivedRequest) => { status: number; body: unknown }): Promise<HttpsReceiver> {
  const { keyPath, certPath } = makeThrowawayCertificate(dir, 'receiver');
  const received: ReceivedRequest[] = [];
  const server = createServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const entry = { path: request.url!, headers: request.headers, body: request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw };
      received.push(entry);
      const { status, body } = answer(entry);
      response.statusCode = status;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    certPath,
    received,
    url: (path) => `https://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
