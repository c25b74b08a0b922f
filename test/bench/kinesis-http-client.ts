/**
 * The benchmark's Kinesis client: raw JSON 1.1 or CBOR 1.1 POSTs over a keep-alive `node:http` agent.
 *
 * Not the AWS SDK on purpose: the SDK's serialisation, middleware and signing would cost the
 * load generator CPU that the target then cannot use (the bench machine has 2 cores), and it
 * would hide what the server itself costs. Requests carry a fixed, unverifiable SigV4-shaped
 * `Authorization` header because kinesalite refuses requests without one (it checks the header's
 * shape, not the signature); Riffle runs with no access keys and does not check it.
 */
import http from 'node:http';
import { decode as decodeCbor, encode as encodeCbor } from 'cbor2';

/** JSON 1.1 (every SDK but Java's) or CBOR 1.1 (the Java SDK's, the KPL's and the Riffle agent's). */
export type BenchProtocol = 'json' | 'cbor';
export const benchProtocols: readonly BenchProtocol[] = ['json', 'cbor'];

const CONTENT_TYPES: Record<BenchProtocol, string> = { json: 'application/x-amz-json-1.1', cbor: 'application/x-amz-cbor-1.1' };
const TARGET_PREFIX = 'Kinesis_20131202.';
const DUMMY_AMZ_DATE = '20240101T000000Z';
const DUMMY_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000';

/** A non-200 answer: AWS errors carry their code in `__type`. */
export class KinesisCallError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly errorType: string,
    readonly body: string,
  ) {
    super(`${operation} answered HTTP ${status} ${errorType}: ${body.slice(0, 300)}`);
  }
}

export class KinesisHttpClient {
  private readonly url: URL;

  constructor(
    endpoint: string,
    private readonly agent: http.Agent,
    private readonly protocol: BenchProtocol = 'json',
  ) {
    this.url = new URL(endpoint);
  }

  /** Sends `input` (an object, or an already serialised body) and parses the answer. */
  async call<T>(operation: string, input: object | Buffer): Promise<T> {
    const answer = await this.callForBody(operation, input);
    // Some answers have no body at all (CreateStream on kinesalite, as on AWS).
    if (answer.length === 0) return {} as T;
    return (this.protocol === 'json' ? JSON.parse(answer.toString('utf8')) : decodeCbor(answer)) as T;
  }

  /** Like `call`, but leaves the answer's body unparsed, for a reader that scans it itself. */
  async callForBody(operation: string, input: object | Buffer): Promise<Buffer> {
    const body = Buffer.isBuffer(input) ? input : this.protocol === 'json' ? Buffer.from(JSON.stringify(input)) : Buffer.from(encodeCbor(input));
    const { status, answer } = await this.post(operation, body);
    if (status !== 200) {
      const text = this.protocol === 'json' ? answer.toString('utf8') : (JSON.stringify(decodeErrorSafely(answer)) ?? '');
      throw new KinesisCallError(operation, status, errorTypeOf(text), text);
    }
    return answer;
  }

  private post(operation: string, body: Buffer): Promise<{ status: number; answer: Buffer }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          hostname: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path: '/',
          headers: {
            'Content-Type': CONTENT_TYPES[this.protocol],
            'Content-Length': body.length,
            'X-Amz-Target': TARGET_PREFIX + operation,
            'X-Amz-Date': DUMMY_AMZ_DATE,
            Authorization: DUMMY_AUTHORIZATION,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, answer: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** The agent every benchmark client uses: at most `connections` keep-alive HTTP/1.1 sockets. */
export function createKeepAliveAgent(connections: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: connections });
}

/** A CBOR error body as a value JSON can show; undefined when it is no CBOR. */
function decodeErrorSafely(answer: Buffer): unknown {
  try {
    return decodeCbor(answer);
  } catch {
    return undefined;
  }
}

function errorTypeOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { __type?: unknown };
    return typeof parsed.__type === 'string' ? parsed.__type : 'unknown';
  } catch {
    return 'not-json';
  }
}
