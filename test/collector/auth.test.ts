import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, createAuthenticator, type AccessKeyConfig, type Identity } from '../../collector/auth.js';
import { ManualClock, systemClock } from '../../shared/clock.js';
import { AwsError, isAwsError, type ErrorCode } from '../../shared/errors.js';
import {
  buildCanonicalRequest,
  buildStringToSign,
  computeSignature,
  deriveSigningKey,
  formatAmzDate,
  sha256Hex,
  signRequest,
  type SignableRequest,
} from '../../shared/sigv4.js';
import { NodeSha256 } from '../helpers/node-sha256.js';


const fullAccessKey: AccessKeyConfig = {
  accessKeyId: 'AKIARIFFLEOPS0000001',
  secretAccessKey: 'ops/secret+0123456789abcdefghijklmnopqr',
  name: 'ops',
};
const deviceKey: AccessKeyConfig = {
  accessKeyId: 'AKIARIFFLEDEVICE0001',
  secretAccessKey: 'device/secret+0123456789abcdefghijklmno',
  policy: { actions: ['kinesis:PutRecord*'], resources: ['arn:aws:kinesis:*:*:stream/device-*'] },
};
const unknownKey = { accessKeyId: 'AKIANOTCONFIGURED001', secretAccessKey: 'whatever' };

const signedAt = Date.UTC(2026, 2, 14, 15, 9, 26);
const fiveMinutes = 5 * 60 * 1000;

function putRecordRequest(overrides: Partial<SignableRequest> = {}): SignableRequest {
  return {
    method: 'POST',
    path: '/',
    query: '',
    headers: {
      host: 'collector.local:4567',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.PutRecord',
    },
    body: Buffer.from(JSON.stringify({ StreamName: 'device-1', Data: 'aGk=', PartitionKey: 'p' })),
    ...overrides,
  };
}

interface SmithyOptions {
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
  service?: string;
  at?: number;
  /** Whether to state the body's hash as x-amz-content-sha256 (the AWS SDK default). */
  applyChecksum?: boolean;
}

function toSmithyRequest(req: SignableRequest) {
  return {
    method: req.method,
    protocol: 'http:',
    hostname: 'collector.local',
    path: req.path,
    query: Object.fromEntries(new URLSearchParams(req.query)),
    headers: req.headers as Record<string, string>,
    body: req.body,
  };
}

function smithySigner(options: SmithyOptions): SignatureV4 {
  return new SignatureV4({
    credentials: options.credentials ?? fullAccessKey,
    region: options.region ?? 'eu-west-1',
    service: options.service ?? 'kinesis',
    sha256: NodeSha256,
    applyChecksum: options.applyChecksum ?? true,
  });
}

/** Signs with @smithy/signature-v4, the AWS SDK's own implementation. */
async function smithySign(req: SignableRequest, options: SmithyOptions = {}): Promise<SignableRequest> {
  const signed = await smithySigner(options).sign(toSmithyRequest(req), { signingDate: new Date(options.at ?? signedAt) });
  return { ...req, headers: signed.headers };
}

/** A presigned request, its signature in the query string. */
async function smithyPresign(
  req: SignableRequest,
  options: SmithyOptions & { expiresIn?: number } = {},
): Promise<SignableRequest> {
  const signed = await smithySigner(options).presign(toSmithyRequest(req), {
    signingDate: new Date(options.at ?? signedAt),
    expiresIn: options.expiresIn ?? 300,
    // The collector reads the operation from the X-Amz-Target header, so keep it there.
    unhoistableHeaders: new Set(['x-amz-target']),
  });
  return { ...req, headers: signed.headers, query: encodeQuery(signed.query ?? {}) };
}

/** The query as a client puts it on the wire: RFC 3986 encoding, as the SDK's query builder does. */
function encodeQuery(query: Record<string, string | string[] | null>): string {
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(query)
    .flatMap(([name, value]) => [value ?? ''].flat().map((one) => `${encode(name)}=${encode(one)}`))
    .join('&');
}

function withHeaders(req: SignableRequest, change: (headers: SignableRequest['headers']) => void): SignableRequest {
  const headers = { ...req.headers };
  change(headers);
  return { ...req, headers };
}

function authenticatorAt(now: number) {
  return createAuthenticator([fullAccessKey, deviceKey], new ManualClock(now));
}

function errorCodeOf(action: () => unknown): ErrorCode | 'no error' {
  try {
    action();
    return 'no error';
  } catch (error) {
    if (isAwsError(error)) return error.code;
    throw error;
  }
}

describe('verifying SigV4 requests', () => {
  const authenticate = authenticatorAt(signedAt);

  it('accepts a request signed by the AWS SDK signer and names its key', async () => {
    const identity = authenticate(await smithySign(putRecordRequest()));
    expect(identity).toEqual({ accessKeyId: 'AKIARIFFLEOPS0000001', name: 'ops', userArn: 'arn:aws:iam::000000000000:user/ops', policy: undefined });
  });

  it('names a key without a name by its access key id, and carries its policy', async () => {
    const identity = authenticate(await smithySign(putRecordRequest(), { credentials: deviceKey }));
    expect(identity).toEqual({ accessKeyId: deviceKey.accessKeyId, name: deviceKey.accessKeyId, userArn: `arn:aws:iam::000000000000:user/${deviceKey.accessKeyId}`, policy: deviceKey.policy });
  });

  it('accepts a request signed by signRequest', () => {
    const req = putRecordRequest();
    const added = signRequest(req, fullAccessKey, { region: 'eu-west-1', service: 'kinesis' }, new Date(signedAt));
    expect(authenticate({ ...req, headers: { ...req.headers, ...added } }).accessKeyId).toBe(fullAccessKey.accessKeyId);
  });

  it.each([
    ['any region', { region: 'riffle-basement-1' }],
    ['the firehose service', { service: 'firehose' }],
    ['no stated payload hash', { applyChecksum: false }],
  ])('accepts %s', async (_, options) => {
    expect(authenticate(await smithySign(putRecordRequest(), options)).accessKeyId).toBe(fullAccessKey.accessKeyId);
  });

  it('reads a signed host from :authority when it arrives over HTTP/2', async () => {
    const signed = await smithySign(putRecordRequest());
    const overH2 = withHeaders(signed, (headers) => {
      headers[':authority'] = headers.host;
      delete headers.host;
    });
    expect(authenticate(overH2).accessKeyId).toBe(fullAccessKey.accessKeyId);
  });

  it('canonicalises the separate values of a repeated header as SigV4 says', async () => {
    const signed = await smithySign(
      withHeaders(putRecordRequest(), (headers) => (headers['x-riffle-tags'] = 'a,b c')),
    );
    const received = withHeaders(signed, (headers) => (headers['x-riffle-tags'] = [' a', 'b    c ']));
    expect(authenticate(received).accessKeyId).toBe(fullAccessKey.accessKeyId);
  });

  it('accepts any body under UNSIGNED-PAYLOAD', async () => {
    const signed = await smithySign(
      withHeaders(putRecordRequest(), (headers) => (headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD')),
    );
    expect(authenticate({ ...signed, body: Buffer.from('{"other":true}') }).accessKeyId).toBe(fullAccessKey.accessKeyId);
  });

  it('verifies a Date header in place of X-Amz-Date', () => {
    const req = withHeaders(putRecordRequest(), (headers) => (headers.date = new Date(signedAt).toUTCString()));
    const scope = { date: formatAmzDate(new Date(signedAt)).slice(0, 8), region: 'eu-west-1', service: 'kinesis' };
    const canonical = buildCanonicalRequest(req, ['date', 'host'], sha256Hex(req.body));
    const signature = computeSignature(
      deriveSigningKey(fullAccessKey.secretAccessKey, scope),
      buildStringToSign(formatAmzDate(new Date(signedAt)), scope, canonical),
    );
    const signed = withHeaders(req, (headers) => {
      headers.authorization =
        `AWS4-HMAC-SHA256 Credential=${fullAccessKey.accessKeyId}/${scope.date}/eu-west-1/kinesis/aws4_request, ` +
        `SignedHeaders=date;host, Signature=${signature}`;
    });
    expect(authenticate(signed).accessKeyId).toBe(fullAccessKey.accessKeyId);
  });

  describe('rejects a tampered request', () => {
    const tamperings: Array<[string, (req: SignableRequest) => SignableRequest, ErrorCode]> = [
      ['body', (req) => ({ ...req, body: Buffer.from('{"StreamName":"device-2"}') }), 'InvalidSignatureException'],
      ['signed header', (req) => withHeaders(req, (h) => (h['x-amz-target'] = 'Kinesis_20131202.DeleteStream')), 'InvalidSignatureException'],
      ['path', (req) => ({ ...req, path: '/other' }), 'InvalidSignatureException'],
      ['query', (req) => ({ ...req, query: 'extra=1' }), 'InvalidSignatureException'],
      ['method', (req) => ({ ...req, method: 'PUT' }), 'InvalidSignatureException'],
      ['date', (req) => withHeaders(req, (h) => (h['x-amz-date'] = formatAmzDate(new Date(signedAt + 1000)))), 'InvalidSignatureException'],
      ['signature', (req) => withHeaders(req, (h) => (h.authorization = String(h.authorization).replace(/.$/, (c) => (c === '0' ? '1' : '0')))), 'InvalidSignatureException'],
    ];
    it.each(tamperings)('%s', async (_, tamper, code) => {
      const signed = await smithySign(putRecordRequest());
      expect(errorCodeOf(() => authenticate(signed))).toBe('no error');
      expect(errorCodeOf(() => authenticate(tamper(signed)))).toBe(code);
    });

    it('body, when the signature covers the body hash rather than a stated one', async () => {
      const signed = await smithySign(putRecordRequest(), { applyChecksum: false });
      expect(errorCodeOf(() => authenticate({ ...signed, body: Buffer.from('{}') }))).toBe('InvalidSignatureException');
    });
  });

  it.each<[string, SmithyOptions, ErrorCode]>([
    ['the wrong secret', { credentials: { ...fullAccessKey, secretAccessKey: 'not the secret' } }, 'InvalidSignatureException'],
    ['an unknown access key', { credentials: unknownKey }, 'UnrecognizedClientException'],
    ['a service other than kinesis or firehose', { service: 's3' }, 'InvalidSignatureException'],
    ['a session token, which no collector key has', { credentials: { ...fullAccessKey, sessionToken: 'token' } }, 'UnrecognizedClientException'],
  ])('rejects a request signed with %s', async (_, options, code) => {
    const signed = await smithySign(putRecordRequest(), options);
    expect(errorCodeOf(() => authenticate(signed))).toBe(code);
  });
});

describe('malformed signatures', () => {
  const authenticate = authenticatorAt(signedAt);

  it('answers an unsigned request with MissingAuthenticationTokenException', () => {
    expect(errorCodeOf(() => authenticate(putRecordRequest()))).toBe('MissingAuthenticationTokenException');
  });

  it.each<[string, (authorization: string) => string, ErrorCode]>([
    ['a non-SigV4 scheme', () => 'Basic b3BzOnNlY3JldA==', 'MissingAuthenticationTokenException'],
    ['no Credential', (a) => a.replace(/Credential=[^,]*, /, ''), 'IncompleteSignatureException'],
    ['an empty Signature', (a) => a.replace(/Signature=\w+/, 'Signature='), 'IncompleteSignatureException'],
    ['a parameter without =', (a) => a.replace('SignedHeaders=', 'SignedHeaders '), 'IncompleteSignatureException'],
    ['an unsupported algorithm', (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'), 'IncompleteSignatureException'],
    ['a credential of four elements', (a) => a.replace('/aws4_request', ''), 'IncompleteSignatureException'],
    ['a wrong scope terminator', (a) => a.replace('/aws4_request', '/aws5_request'), 'InvalidSignatureException'],
    ['a scope date other than the request date', (a) => a.replace('/20260314/', '/20260313/'), 'InvalidSignatureException'],
    ['host left unsigned', (a) => a.replace(';host;', ';'), 'InvalidSignatureException'],
  ])('answers %s', async (_, rewrite, code) => {
    const signed = await smithySign(putRecordRequest());
    const rewritten = withHeaders(signed, (headers) => (headers.authorization = rewrite(String(headers.authorization))));
    expect(rewritten.headers.authorization).not.toBe(signed.headers.authorization);
    expect(errorCodeOf(() => authenticate(rewritten))).toBe(code);
  });

  it('lists every missing part of the Authorization header, as AWS does', async () => {
    const signed = await smithySign(putRecordRequest());
    const bare = withHeaders(signed, (headers) => {
      headers.authorization = 'AWS4-HMAC-SHA256';
      delete headers['x-amz-date'];
    });
    expect(() => authenticate(bare)).toThrow(
      new AwsError(
        'IncompleteSignatureException',
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
          "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either " +
          "a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256",
      ),
    );
  });

  it('answers an X-Amz-Date not in ISO 8601 basic format with IncompleteSignatureException', async () => {
    const signed = await smithySign(putRecordRequest());
    const reformatted = withHeaders(signed, (headers) => (headers['x-amz-date'] = new Date(signedAt).toISOString()));
    expect(errorCodeOf(() => authenticate(reformatted))).toBe('IncompleteSignatureException');
  });

  it('refuses a signature in both the header and the query string', async () => {
    const presigned = await smithyPresign(putRecordRequest());
    const signed = await smithySign(putRecordRequest());
    const both = { ...presigned, headers: { ...presigned.headers, authorization: signed.headers.authorization } };
    expect(errorCodeOf(() => authenticate(both))).toBe('InvalidSignatureException');
  });
});

describe('clock skew', () => {
  it.each([
    ['5 minutes behind', -fiveMinutes, 'no error'],
    ['5 minutes and a second behind', -fiveMinutes - 1000, 'InvalidSignatureException'],
    ['5 minutes ahead', fiveMinutes, 'no error'],
    ['5 minutes and a second ahead', fiveMinutes + 1000, 'InvalidSignatureException'],
  ])('a client clock %s', async (_, clientOffset, code) => {
    const clock = new ManualClock(signedAt);
    const authenticate = createAuthenticator([fullAccessKey], clock);
    const signed = await smithySign(putRecordRequest(), { at: signedAt + clientOffset });
    expect(errorCodeOf(() => authenticate(signed))).toBe(code);
  });

  it('lets a signed request expire as the collector clock moves on', async () => {
    const clock = new ManualClock(signedAt);
    const authenticate = createAuthenticator([fullAccessKey], clock);
    const signed = await smithySign(putRecordRequest());
    clock.advance(fiveMinutes);
    expect(errorCodeOf(() => authenticate(signed))).toBe('no error');
    clock.advance(1000);
    expect(errorCodeOf(() => authenticate(signed))).toBe('InvalidSignatureException');
  });
});

describe('presigned requests', () => {
  it('accepts a presigned request', async () => {
    const authenticate = authenticatorAt(signedAt);
    const presigned = await smithyPresign(putRecordRequest(), { credentials: deviceKey });
    expect(presigned.headers).not.toHaveProperty('authorization');
    expect(authenticate(presigned).accessKeyId).toBe(deviceKey.accessKeyId);
  });

  it('honours X-Amz-Expires rather than the 5-minute skew', async () => {
    const clock = new ManualClock(signedAt);
    const authenticate = createAuthenticator([fullAccessKey], clock);
    const presigned = await smithyPresign(putRecordRequest(), { expiresIn: 3600 });
    clock.advance(3600 * 1000);
    expect(errorCodeOf(() => authenticate(presigned))).toBe('no error');
    clock.advance(1000);
    expect(errorCodeOf(() => authenticate(presigned))).toBe('InvalidSignatureException');
  });

  it.each<[string, (query: string) => string, ErrorCode]>([
    ['a missing signature', (q) => q.replace(/&?X-Amz-Signature=\w+/, ''), 'IncompleteSignatureException'],
    ['a lifetime over a week', (q) => q.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801'), 'IncompleteSignatureException'],
    ['a lengthened lifetime', (q) => q.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=301'), 'InvalidSignatureException'],
    ['another access key', (q) => q.replace(fullAccessKey.accessKeyId, deviceKey.accessKeyId), 'InvalidSignatureException'],
  ])('rejects %s', async (_, rewrite, code) => {
    const authenticate = authenticatorAt(signedAt);
    const presigned = await smithyPresign(putRecordRequest());
    expect(rewrite(presigned.query)).not.toBe(presigned.query);
    expect(errorCodeOf(() => authenticate({ ...presigned, query: rewrite(presigned.query) }))).toBe(code);
  });

  it('rejects a presigned request whose body was changed', async () => {
    const authenticate = authenticatorAt(signedAt);
    const presigned = await smithyPresign(putRecordRequest());
    expect(errorCodeOf(() => authenticate({ ...presigned, body: Buffer.from('{}') }))).toBe('InvalidSignatureException');
  });
});

describe('a real @aws-sdk/client-kinesis request over cleartext HTTP/2', () => {
  let server: http2.Http2Server;
  let endpoint: string;
  const authenticate = createAuthenticator([fullAccessKey], systemClock);

  beforeAll(async () => {
    server = http2.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const [path = '/', query = ''] = (req.headers[':path'] ?? '/').split('?');
        const signable = { method: req.method, path, query, headers: req.headers, body: Buffer.concat(chunks) };
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        try {
          authenticate(signable);
          res.end(JSON.stringify({ ShardId: 'shardId-000000000000', SequenceNumber: '1' }));
        } catch (error) {
          if (!isAwsError(error)) throw error;
          res.statusCode = error.status;
          res.end(JSON.stringify({ __type: error.code, message: error.message }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function putRecordWith(credentials: { accessKeyId: string; secretAccessKey: string }) {
    const client = new KinesisClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
    try {
      return await client.send(new PutRecordCommand({ StreamName: 'device-1', Data: Buffer.from('hi'), PartitionKey: 'p' }));
    } finally {
      client.destroy();
    }
  }

  it('is accepted', async () => {
    await expect(putRecordWith(fullAccessKey)).resolves.toMatchObject({ SequenceNumber: '1' });
  });

  it('is refused when signed with the wrong secret', async () => {
    await expect(putRecordWith({ ...fullAccessKey, secretAccessKey: 'wrong' })).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
  });
});

describe('createAuthenticator', () => {
  it('refuses an access key configured twice', () => {
    expect(() => createAuthenticator([fullAccessKey, { ...fullAccessKey }], new ManualClock())).toThrow(/twice/);
  });
});

describe('authorize', () => {
  const streamArn = 'arn:aws:kinesis:eu-west-1:000000000000:stream/device-7';
  const identityWith = (policy: Identity['policy']): Identity => ({ accessKeyId: 'AKIA', name: 'fleet', userArn: 'arn:aws:iam::000000000000:user/fleet', policy });

  it('allows everything when the API runs open', () => {
    expect(errorCodeOf(() => authorize(undefined, 'kinesis:DeleteStream', streamArn))).toBe('no error');
  });

  it('allows everything to a key without a policy', () => {
    expect(errorCodeOf(() => authorize(identityWith(undefined), 'kinesis:DeleteStream', streamArn))).toBe('no error');
  });

  it.each<[string, string, string | undefined, 'no error' | ErrorCode]>([
    ['kinesis:PutRecord', 'kinesis:PutRecord', streamArn, 'no error'],
    ['kinesis:PutRecord', 'kinesis:PutRecords', streamArn, 'AccessDeniedException'],
    ['kinesis:Put*', 'kinesis:PutRecords', streamArn, 'no error'],
    ['kinesis:Put*', 'kinesis:GetRecords', streamArn, 'AccessDeniedException'],
    ['kinesis:*', 'kinesis:DeleteStream', streamArn, 'no error'],
    ['kinesis:*', 'firehose:PutRecord', streamArn, 'AccessDeniedException'],
    ['*', 'firehose:PutRecord', streamArn, 'no error'],
    ['KINESIS:putrecord', 'kinesis:PutRecord', streamArn, 'no error'],
    ['kinesis:PutRecor?', 'kinesis:PutRecord', streamArn, 'no error'],
  ])('action pattern %s against %s', (pattern, action, resource, expected) => {
    const identity = identityWith({ actions: [pattern], resources: ['*'] });
    expect(errorCodeOf(() => authorize(identity, action, resource))).toBe(expected);
  });

  it.each<[string, string | undefined, 'no error' | ErrorCode]>([
    ['arn:aws:kinesis:*:*:stream/device-*', streamArn, 'no error'],
    ['arn:aws:kinesis:*:*:stream/device-*', 'arn:aws:kinesis:eu-west-1:000000000000:stream/billing', 'AccessDeniedException'],
    ['arn:aws:kinesis:eu-west-1:000000000000:stream/device-7', streamArn, 'no error'],
    ['arn:aws:kinesis:us-east-1:*', streamArn, 'AccessDeniedException'],
    ['arn:aws:kinesis:*', streamArn, 'no error'],
    ['arn:aws:kinesis:*:*:stream/Device-*', streamArn, 'AccessDeniedException'],
    ['arn:aws:kinesis:*:*:stream/device-?', streamArn, 'no error'],
    ['arn:aws:kinesis:*:*:stream/device-??', streamArn, 'AccessDeniedException'],
    ['*', undefined, 'no error'],
    ['arn:aws:kinesis:*', undefined, 'AccessDeniedException'],
  ])('resource pattern %s against %s', (pattern, resource, expected) => {
    const identity = identityWith({ actions: ['kinesis:*'], resources: [pattern] });
    expect(errorCodeOf(() => authorize(identity, 'kinesis:ListShards', resource))).toBe(expected);
  });

  it('denies by default once a policy exists', () => {
    const identity = identityWith({ actions: [], resources: [] });
    expect(errorCodeOf(() => authorize(identity, 'kinesis:ListStreams', undefined))).toBe('AccessDeniedException');
  });

  it('needs both an allowed action and an allowed resource', () => {
    const identity = identityWith({ actions: ['kinesis:PutRecord'], resources: ['arn:aws:kinesis:*:*:stream/device-*'] });
    expect(errorCodeOf(() => authorize(identity, 'kinesis:PutRecord', streamArn))).toBe('no error');
    expect(errorCodeOf(() => authorize(identity, 'kinesis:DeleteStream', streamArn))).toBe('AccessDeniedException');
    expect(
      errorCodeOf(() => authorize(identity, 'kinesis:PutRecord', 'arn:aws:kinesis:eu-west-1:000000000000:stream/billing')),
    ).toBe('AccessDeniedException');
  });

  it('words the denial as IAM does', () => {
    const identity = identityWith({ actions: ['kinesis:GetRecords'], resources: ['*'] });
    expect(() => authorize(identity, 'kinesis:PutRecord', streamArn)).toThrow(
      new AwsError(
        'AccessDeniedException',
        `User: arn:aws:iam::000000000000:user/fleet is not authorized to perform: kinesis:PutRecord on resource: ${streamArn} ` +
          'because no identity-based policy allows the kinesis:PutRecord action',
      ),
    );
  });
});
