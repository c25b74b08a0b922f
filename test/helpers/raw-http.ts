/**
 * One HTTP/1.1 request with exactly the headers and body bytes given — for the wire details an
 * SDK will not produce (unsigned requests, CBOR, compressed or malformed bodies).
 */
import { request, type Agent } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** A keep-alive agent to send through; without one the request has its own connection (`Connection: close`). */
  agent?: Agent;
}

export function sendRaw(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    let answered = false;
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        method: req.method ?? 'POST',
        path: req.path ?? '/',
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
        agent: req.agent ?? false,
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
        response.on('close', () => {
          if (!response.complete) reject(new Error('the connection closed before the response was complete'));
        });
      },
    );
    // A server may answer and stop reading an oversized body; the answer is what counts, so a
    // write error only fails the request when no response arrived.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    outgoing.end(body);
  });
}

/** A JSON 1.1 Kinesis call without any signature (the collector under test runs open unless keys are configured). */
export function sendKinesisJson(port: number, operation: string, body: Buffer | string, options: { headers?: Record<string, string>; agent?: Agent } = {}): Promise<RawResponse> {
  return sendRaw(port, {
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Kinesis_20131202.${operation}`, ...options.headers },
    body,
    ...(options.agent ? { agent: options.agent } : {}),
  });
}

/** The `__type` of a JSON error body (AWS may prefix it with a namespace and `#`). */
export function errorTypeOf(response: RawResponse): string | undefined {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { __type?: unknown };
    return typeof parsed.__type === 'string' ? parsed.__type.replace(/^.*#/, '') : undefined;
  } catch {
    return undefined;
  }
}
