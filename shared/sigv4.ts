/**
 * AWS Signature Version 4 (AWS4-HMAC-SHA256): the pieces both sides of a request need.
 *
 * The collector verifies with them (collector/auth.ts); the device agent signs with `signRequest`,
 * towards AWS or towards a collector. Everything follows the SigV4 specification
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n \n SignedHeaders \n PayloadHash
 *   StringToSign     = Algorithm \n AmzDate \n Scope \n hex(SHA256(CanonicalRequest))
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), service), "aws4_request")
 *   Signature        = hex(HMAC(SigningKey, StringToSign))
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** The last element of every credential scope. */
export const SCOPE_TERMINATOR = 'aws4_request';
/** `x-amz-content-sha256` value that leaves the body out of the signature. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface SignableRequest {
  method: string;
  /** The path as transmitted (still percent-encoded), without the query. */
  path: string;
  /** The raw query string, without '?'. */
  query: string;
  /**
   * Header names in any case. An array holds the separate values of a repeated header; pass
   * those (Node's `headersDistinct`) rather than Node's `, `-joined string when they matter,
   * because SigV4 joins repeated values with a bare ','.
   */
  headers: Record<string, string | string[] | undefined>;
  /** The body as transmitted, before any Content-Encoding is undone. */
  body: Buffer;
}

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface CredentialScope {
  /** `YYYYMMDD`, the UTC day of the request's timestamp. */
  date: string;
  region: string;
  service: string;
}

/** `20260101T000000Z`: the ISO 8601 basic format SigV4 timestamps use. */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function formatCredentialScope(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/${SCOPE_TERMINATOR}`;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function deriveSigningKey(secretAccessKey: string, scope: CredentialScope): Buffer {
  let key: Buffer | string = `AWS4${secretAccessKey}`;
  for (const part of [scope.date, scope.region, scope.service, SCOPE_TERMINATOR]) {
    key = createHmac('sha256', key).update(part).digest();
  }
  return key as Buffer;
}

export function buildStringToSign(amzDate: string, scope: CredentialScope, canonicalRequest: string): string {
  return [SIGV4_ALGORITHM, amzDate, formatCredentialScope(scope), sha256Hex(canonicalRequest)].join('\n');
}

export function computeSignature(signingKey: Buffer, stringToSign: string): string {
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

/**
 * The canonical request over `signedHeaders` (lower-case names, in signing order).
 * `X-Amz-Signature` never takes part: a presigned URL carries it in the query it signs.
 */
export function buildCanonicalRequest(req: SignableRequest, signedHeaders: readonly string[], payloadHash: string): string {
  const headers = lowerCaseHeaderNames(req.headers);
  return [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    ...signedHeaders.map((name) => `${name}:${canonicalHeaderValue(signedHeaderValue(headers, name))}`),
    '',
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** Headers keyed by lower-case name; values of names that differ only in case are kept together. */
export function lowerCaseHeaderNames(
  headers: SignableRequest['headers'],
): Map<string, string | string[]> {
  const lowered = new Map<string, string | string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const existing = lowered.get(key);
    lowered.set(key, existing === undefined ? value : [existing, value].flat());
  }
  return lowered;
}

/**
 * The value a signed header had at the client. Over HTTP/2 the authority travels as the
 * `:authority` pseudo-header (RFC 9113 §8.3.1) and Node's server shows no `host`: the JS SDK v3
 * signs `:authority` by that name, and a client that signed `host` is read from `:authority`.
 */
function signedHeaderValue(headers: Map<string, string | string[]>, name: string): string | string[] | undefined {
  const value = headers.get(name);
  if (value === undefined && name === 'host') return headers.get(':authority');
  return value;
}

/** SigV4: trim each value, squeeze runs of spaces, join repeated values with ','. */
function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = value === undefined ? [] : [value].flat();
  return values.map((one) => one.replace(/\s+/g, ' ').trim()).join(',');
}

/**
 * The path with '.' and '..' segments resolved, empty segments dropped and each segment
 * percent-encoded once more — SigV4 double-encodes paths for every service but S3.
 */
function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return '/';
  const trailingSlash = rawPath.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailingSlash}`;
}

/** Parameters decoded, re-encoded the RFC 3986 way, sorted by name and then value. */
function canonicalQuery(rawQuery: string): string {
  return parseQuery(rawQuery)
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => compareStrings(nameA, nameB) || compareStrings(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * Query parameters in order, percent-decoded. '+' stays a '+': SigV4 signers encode a space as
 * %20, so a literal '+' on the wire can only have meant itself.
 */
export function parseQuery(rawQuery: string): Array<[name: string, value: string]> {
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals === -1
        ? [percentDecode(pair), '']
        : [percentDecode(pair.slice(0, equals)), percentDecode(pair.slice(equals + 1))];
    });
}

/** A malformed escape is kept as written, so it fails the signature rather than the parser. */
function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RFC 3986 unreserved characters stay; everything else is %XX with upper-case hex. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Code-unit order, which is byte order for the ASCII strings that encoding leaves. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Headers that hops may add, drop or rewrite, so signing them would break requests in transit —
 * the same set the AWS SDKs leave unsigned.
 */
const unsignableHeaders = new Set([
  'authorization', 'cache-control', 'connection', 'expect', 'from', 'keep-alive', 'max-forwards',
  'pragma', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id',
]);

function isSignable(name: string): boolean {
  return !unsignableHeaders.has(name) && !name.startsWith(':') && !name.startsWith('proxy-') && !name.startsWith('sec-');
}

/**
 * Signs `req` in the Authorization-header form and returns the headers to add to it. Every
 * header of `req` is signed except the hop-by-hop ones above; `req` must carry `host`. Unless
 * `req` already states `x-amz-content-sha256` (e.g. UNSIGNED-PAYLOAD), the body's hash is added
 * as that header, as the AWS SDK's signer does by default.
 */
export function signRequest(
  req: SignableRequest,
  credentials: SigningCredentials,
  scope: { region: string; service: string },
  now: Date,
): Record<string, string> {
  const amzDate = formatAmzDate(now);
  const stated = lowerCaseHeaderNames(req.headers).get('x-amz-content-sha256');
  const payloadHash = typeof stated === 'string' ? stated : sha256Hex(req.body);
  const added: Record<string, string> = { 'x-amz-date': amzDate };
  if (stated === undefined) added['x-amz-content-sha256'] = payloadHash;
  if (credentials.sessionToken !== undefined) added['x-amz-security-token'] = credentials.sessionToken;

  const signed: SignableRequest = { ...req, headers: { ...withoutGeneratedHeaders(req.headers), ...added } };
  const signedHeaders = [...lowerCaseHeaderNames(signed.headers).keys()].filter(isSignable).sort(compareStrings);

  const credentialScope: CredentialScope = { date: amzDate.slice(0, 8), ...scope };
  const stringToSign = buildStringToSign(amzDate, credentialScope, buildCanonicalRequest(signed, signedHeaders, payloadHash));
  const signature = computeSignature(deriveSigningKey(credentials.secretAccessKey, credentialScope), stringToSign);
  added.authorization =
    `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${formatCredentialScope(credentialScope)}, ` +
    `SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return added;
}

/** A request being re-signed must not sign its previous signature or timestamp. */
function withoutGeneratedHeaders(headers: SignableRequest['headers']): SignableRequest['headers'] {
  const generated = new Set(['authorization', 'x-amz-date', 'date']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !generated.has(name.toLowerCase())));
}
