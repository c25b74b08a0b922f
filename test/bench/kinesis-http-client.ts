/**
 * The benchmark's Kinesis client: raw JSON 1.1 POSTs over a keep-alive `node:http` agent.
 *
 * Not the AWS SDK on purpose: the SDK's serialisation, middleware and signing would cost the
 * load generator CPU that the target then cannot use (the bench machine has 2 cores), and it
 * would hide what the server itself costs. Requests carry a fixed, unverifiable SigV4-shaped
 * `Authorization` header because kinesalite refuses requests without one (it checks the header's
 * shape, not the signature); Riffle runs with no access keys and does not check it.
 */
import http from 'node:http';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'Kinesis_20131202.';
const DUMMY_AMZ_DATE = '20240101T000000Z';
const DUMMY_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000';

/** A non-200 answer: AWS JSON errors carry their code in `__type`. */
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
  ) {
    this.url = new URL(endpoint);
  }

  /** Sends `input` (an object, or an already serialised body) and parses the JSON answer. */
  async call<T>(operation: string, input: object | Buffer): Promise<T> {
    const answer = await this.callForBody(operation, input);
    // Some answers have no body at all (CreateStream on kinesalite, as on AWS).
    return (answer.length === 0 ? {} : JSON.parse(answer.toString('utf8'))) as T;
  }

  /** Like `call`, but leaves the answer's body unparsed, for a reader that scans it itself. */
  async callForBody(operation: string, input: object | Buffer): Promise<Buffer> {
    const body = Buffer.isBuffer(input) ? input : Buffer.from(JSON.stringify(input));
    const { status, answer } = await this.post(operation, body);
    if (status !== 200) {
      const text = answer.toString('utf8');
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
            'Content-Type': JSON_CONTENT_TYPE,
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

function errorTypeOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { __type?: unknown };
    return typeof parsed.__type === 'string' ? parsed.__type : 'unknown';
  } catch {
    return 'not-json';
  }
}
