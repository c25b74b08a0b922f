import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  buildCanonicalRequest,
  buildStringToSign,
  computeSignature,
  deriveSigningKey,
  sha256Hex,
  signRequest,
  type SignableRequest,
  type SigningCredentials,
} from '../../shared/sigv4.js';
import { NodeSha256 } from '../helpers/node-sha256.js';


/** Signs with @smithy/signature-v4, the AWS SDK's own implementation, and returns its headers. */
async function smithySignedHeaders(
  req: SignableRequest & { queryParams?: Record<string, string | string[]> },
  credentials: SigningCredentials,
  scope: { region: string; service: string },
  now: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region: scope.region, service: scope.service, sha256: NodeSha256 });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'https:',
      hostname: 'kinesis.eu-west-1.amazonaws.com',
      path: req.path,
      query: req.queryParams ?? {},
      headers: req.headers as Record<string, string>,
      body: req.body,
    },
    { signingDate: now },
  );
  return signed.headers;
}

// The worked example of the SigV4 documentation (IAM ListUsers, 2015-08-30).
const awsExample = {
  request: {
    method: 'GET',
    path: '/',
    query: 'Action=ListUsers&Version=2010-05-08',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', Host: 'iam.amazonaws.com' },
    body: Buffer.alloc(0),
  },
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  scope: { region: 'us-east-1', service: 'iam' },
  canonicalRequestHash: 'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
  signingKey: 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
  signature: '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
};

const credentials = { accessKeyId: 'AKIARIFFLETEST000001', secretAccessKey: 'riffle/test+secret/0123456789abcdefghij' };
const kinesisScope = { region: 'eu-west-1', service: 'kinesis' };
const now = new Date('2026-03-14T15:09:26.535Z');

function putRecordsRequest(overrides: Partial<SignableRequest> = {}): SignableRequest {
  return {
    method: 'POST',
    path: '/',
    query: '',
    headers: {
      host: 'collector.local:4567',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.PutRecords',
      'user-agent': 'riffle-agent/0.1',
      'amz-sdk-invocation-id': '0f6c0d4e-7b0a-4c53-9d8e-7f1c2b3a4d5e',
    },
    body: Buffer.from(JSON.stringify({ StreamName: 'device-1', Records: [{ Data: 'aGk=', PartitionKey: 'p' }] })),
    ...overrides,
  };
}

describe('the SigV4 documentation example', () => {
  it('derives the documented signing key', () => {
    const key = deriveSigningKey(awsExample.credentials.secretAccessKey, { date: '20150830', ...awsExample.scope });
    expect(key.toString('hex')).toBe(awsExample.signingKey);
  });

  it('builds the documented canonical request', () => {
    const req = { ...awsExample.request, headers: { ...awsExample.request.headers, 'X-Amz-Date': '20150830T123600Z' } };
    const canonical = buildCanonicalRequest(req, ['content-type', 'host', 'x-amz-date'], sha256Hex(''));
    expect(sha256Hex(canonical)).toBe(awsExample.canonicalRequestHash);
  });

  it('signs to the documented signature', () => {
    const req = { ...awsExample.request, headers: { ...awsExample.request.headers, 'X-Amz-Date': '20150830T123600Z' } };
    const canonical = buildCanonicalRequest(req, ['content-type', 'host', 'x-amz-date'], sha256Hex(''));
    const scope = { date: '20150830', ...awsExample.scope };
    const key = deriveSigningKey(awsExample.credentials.secretAccessKey, scope);
    expect(computeSignature(key, buildStringToSign('20150830T123600Z', scope, canonical))).toBe(awsExample.signature);
  });
});

describe('signRequest agrees with @smithy/signature-v4', () => {
  it('for a Kinesis PutRecords request', async () => {
    const req = putRecordsRequest();
    const ours = signRequest(req, credentials, kinesisScope, now);
    const theirs = await smithySignedHeaders(req, credentials, kinesisScope, now);
    expect(ours.authorization).toBe(theirs.authorization);
    expect(ours['x-amz-date']).toBe(theirs['x-amz-date']);
    expect(ours['x-amz-content-sha256']).toBe(sha256Hex(req.body));
    expect(ours).not.toHaveProperty('x-amz-security-token');
  });

  it('with a session token, which is signed and returned as a header', async () => {
    const temporary = { ...credentials, sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDM+token==' };
    const req = putRecordsRequest();
    const ours = signRequest(req, temporary, kinesisScope, now);
    const theirs = await smithySignedHeaders(req, temporary, kinesisScope, now);
    expect(ours.authorization).toBe(theirs.authorization);
    expect(ours['x-amz-security-token']).toBe(temporary.sessionToken);
    expect(ours.authorization).toContain('x-amz-security-token');
  });

  it('with UNSIGNED-PAYLOAD, which leaves the body out', async () => {
    const req = putRecordsRequest({
      headers: { ...putRecordsRequest().headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const ours = signRequest(req, credentials, kinesisScope, now);
    expect(ours.authorization).toBe((await smithySignedHeaders(req, credentials, kinesisScope, now)).authorization);
    expect(ours).not.toHaveProperty('x-amz-content-sha256');
    expect(signRequest({ ...req, body: Buffer.from('other') }, credentials, kinesisScope, now)).toEqual(ours);
  });

  it('for paths needing normalisation and double encoding, and unsorted query parameters', async () => {
    const req = putRecordsRequest({
      path: '/a%20b/./c//d/../e f+(x)*!/',
      query: 'b=2&a=1&a=0&empty=&space=x%20y&tilde=~&star=%2A',
    });
    const queryParams = { b: '2', a: ['1', '0'], empty: '', space: 'x y', tilde: '~', star: '*' };
    const ours = signRequest(req, credentials, kinesisScope, now);
    const theirs = await smithySignedHeaders({ ...req, queryParams }, credentials, kinesisScope, now);
    expect(ours.authorization).toBe(theirs.authorization);
  });

  it('ignores a previous signature on the request being signed', () => {
    const first = signRequest(putRecordsRequest(), credentials, kinesisScope, now);
    const resigned = signRequest(
      putRecordsRequest({ headers: { ...putRecordsRequest().headers, ...first } }),
      credentials,
      kinesisScope,
      now,
    );
    expect(resigned.authorization).toBe(first.authorization);
  });

  it('signs a different signature for a different body', () => {
    const a = signRequest(putRecordsRequest(), credentials, kinesisScope, now);
    const b = signRequest(putRecordsRequest({ body: Buffer.from('{}') }), credentials, kinesisScope, now);
    expect(a.authorization).not.toBe(b.authorization);
  });
});

describe('canonical headers', () => {
  const payloadHash = sha256Hex('');
  const base = { method: 'POST', path: '/', query: '', body: Buffer.alloc(0) };
  const headerLines = (canonical: string): string[] => canonical.split('\n').slice(3, -3);

  it('trims values and squeezes inner whitespace', () => {
    const canonical = buildCanonicalRequest(
      { ...base, headers: { 'My-Header': '  a   b \t c  ', Host: 'h' } },
      ['host', 'my-header'],
      payloadHash,
    );
    expect(headerLines(canonical)).toEqual(['host:h', 'my-header:a b c']);
  });

  it('joins the values of a repeated header with a bare comma', () => {
    const canonical = buildCanonicalRequest(
      { ...base, headers: { host: 'h', 'x-multi': [' one ', 'two   three'] } },
      ['host', 'x-multi'],
      payloadHash,
    );
    expect(headerLines(canonical)).toEqual(['host:h', 'x-multi:one,two three']);
  });

  it('reads a signed host from :authority when host did not arrive (HTTP/2)', () => {
    const overH1 = buildCanonicalRequest({ ...base, headers: { host: 'collector:4567' } }, ['host'], payloadHash);
    const overH2 = buildCanonicalRequest({ ...base, headers: { ':authority': 'collector:4567' } }, ['host'], payloadHash);
    expect(overH2).toBe(overH1);
  });

  it('leaves X-Amz-Signature out of the canonical query', () => {
    const withSignature = buildCanonicalRequest({ ...base, query: 'a=1&X-Amz-Signature=abc', headers: {} }, [], payloadHash);
    const without = buildCanonicalRequest({ ...base, query: 'a=1', headers: {} }, [], payloadHash);
    expect(withSignature).toBe(without);
  });
});
