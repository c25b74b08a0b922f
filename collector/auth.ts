/**
 * Who sent a request, and may they do what they ask.
 *
 * `createAuthenticator` verifies SigV4 in both forms AWS accepts — the `Authorization` header and
 * the presigned query string — against the configured access keys, and answers failures with the
 * codes and wording AWS Kinesis uses. The checks run in AWS's order (as recorded by kinesalite and
 * dynalite against the real services): presence, completeness, timestamp, signed host, algorithm,
 * credential shape, credential scope, access key, signature, session token.
 *
 * `authorize` applies a key's access policy: an IAM-style allow list of action and resource-ARN
 * patterns, denying whatever it does not list.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { AwsError } from '../shared/errors.js';
import {
  SCOPE_TERMINATOR,
  SIGV4_ALGORITHM,
  UNSIGNED_PAYLOAD,
  buildCanonicalRequest,
  buildStringToSign,
  computeSignature,
  deriveSigningKey,
  formatAmzDate,
  lowerCaseHeaderNames,
  parseQuery,
  sha256Hex,
  type CredentialScope,
  type SignableRequest,
} from '../shared/sigv4.js';

export interface AccessPolicy {
  /** e.g. `kinesis:PutRecord`, `kinesis:Put*`, `kinesis:*`, `*`; matched case-insensitively, as IAM does. */
  actions: string[];
  /** ARN patterns with `*` (any run of characters) and `?` (one character), e.g. `arn:aws:kinesis:*:*:stream/device-*`. */
  resources: string[];
}

export interface AccessKeyConfig {
  accessKeyId: string;
  secretAccessKey: string;
  /** Absent: the key may do everything. */
  policy?: AccessPolicy;
  /** The IAM user name in access-denied messages; defaults to the access key id. */
  name?: string;
}

export interface Identity {
  accessKeyId: string;
  name: string;
  /** As IAM names the user in AccessDenied messages: arn:aws:iam::<account>:user/<name>. */
  userArn: string;
  policy: AccessPolicy | undefined;
}

/** The credential scope must name a service the collector speaks. */
const acceptedServices = new Set(['kinesis', 'firehose']);

// AWS refuses timestamps more than 5 minutes from its clock — the "- 5 min." in its messages.
const allowedClockSkewMs = 5 * 60 * 1000;

// SigV4 presigned URLs live at most one week: X-Amz-Expires ≤ 604800 seconds.
const maxPresignedLifetimeSeconds = 7 * 24 * 60 * 60;

// Signing keys differ per day, region and service, and the region is the client's choice, so the
// cache must be bounded; a few entries per key cover any honest fleet.
const signingKeyCacheLimit = 1024;

const messages = {
  missingToken: 'Missing Authentication Token',
  bothForms: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
  signatureMismatch:
    'The request signature we calculated does not match the signature you provided. ' +
    'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  hostNotSigned: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  invalidToken: 'The security token included in the request is invalid.',
};

/** What a request claims about its signature, from whichever form it used. */
interface SignatureClaim {
  algorithm: string;
  credential: string;
  signedHeaders: string;
  signature: string;
  /** ISO 8601 basic format, as it entered the string to sign. */
  amzDate: string;
  /** Presigned requests only: seconds the signature stays valid after `amzDate`. */
  expiresSeconds: number | undefined;
  payloadHash: string | undefined;
  securityToken: string | undefined;
}

/** `accountId`: the account the collector's resources live in (config `accountId`). */
export function createAuthenticator(keys: AccessKeyConfig[], clock: Clock, accountId = '000000000000'): (req: SignableRequest) => Identity {
  const keysById = new Map<string, AccessKeyConfig>();
  for (const key of keys) {
    if (keysById.has(key.accessKeyId)) throw new Error(`access key ${key.accessKeyId} is configured twice`);
    keysById.set(key.accessKeyId, key);
  }
  const signingKeyFor = createSigningKeyCache();

  return (req) => {
    const headers = lowerCaseHeaderNames(req.headers);
    const query = parseQuery(req.query);
    const claim = readSignatureClaim(headers, query);

    checkSigningTime(claim, clock.now());
    const signedHeaders = claim.signedHeaders.split(';').map((name) => name.toLowerCase());
    if (!signedHeaders.includes('host') && !signedHeaders.includes(':authority')) {
      throw new AwsError('InvalidSignatureException', messages.hostNotSigned);
    }
    if (claim.algorithm !== SIGV4_ALGORITHM) {
      throw new AwsError(
        'IncompleteSignatureException',
        `Unsupported AWS 'algorithm': '${claim.algorithm}' (only ${SIGV4_ALGORITHM} for now). `,
      );
    }
    const { accessKeyId, scope } = readCredential(claim, expectedService(headers));

    const key = keysById.get(accessKeyId);
    if (key === undefined) throw new AwsError('UnrecognizedClientException', messages.invalidToken);

    const payloadHash = verifiedPayloadHash(claim.payloadHash, req.body);
    const canonicalRequest = buildCanonicalRequest(req, signedHeaders, payloadHash);
    const expected = computeSignature(
      signingKeyFor(key, scope),
      buildStringToSign(claim.amzDate, scope, canonicalRequest),
    );
    if (!sameSignature(expected, claim.signature)) {
      throw new AwsError('InvalidSignatureException', messages.signatureMismatch);
    }
    // Collector keys are long-term keys: no session token can belong to them.
    if (claim.securityToken !== undefined) throw new AwsError('UnrecognizedClientException', messages.invalidToken);

    const name = key.name ?? accessKeyId;
    return { accessKeyId, name, userArn: `arn:aws:iam::${accountId}:user/${name}`, policy: key.policy };
  };
}

function readSignatureClaim(headers: Map<string, string | string[]>, query: Array<[string, string]>): SignatureClaim {
  const authorization = singleValue(headers.get('authorization'));
  const presigned = query.some(([name]) => name === 'X-Amz-Algorithm');
  if (authorization !== undefined && presigned) throw new AwsError('InvalidSignatureException', messages.bothForms);
  if (authorization !== undefined) return readAuthorizationHeader(authorization, headers);
  if (presigned) return readPresignedQuery(query, headers);
  throw new AwsError('MissingAuthenticationTokenException', messages.missingToken);
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=…` */
function readAuthorizationHeader(authorization: string, headers: Map<string, string | string[]>): SignatureClaim {
  const [algorithm = '', ...pairs] = authorization.trim().split(/[\s,]+/);
  // A scheme other than SigV4 (Basic, AWS v2, …) carries no token AWS understands.
  if (!algorithm.startsWith('AWS4-')) throw new AwsError('MissingAuthenticationTokenException', messages.missingToken);

  const params = new Map<string, string>();
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals === -1) {
      throw new AwsError(
        'IncompleteSignatureException',
        `'${pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
      );
    }
    params.set(pair.slice(0, equals), pair.slice(equals + 1));
  }

  const amzDate = singleValue(headers.get('x-amz-date'));
  const httpDate = singleValue(headers.get('date'));
  const problems = ['Credential', 'Signature', 'SignedHeaders']
    .filter((name) => !params.get(name))
    .map((name) => `Authorization header requires '${name}' parameter. `);
  if (amzDate === undefined && httpDate === undefined) {
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
  }
  if (problems.length > 0) {
    throw new AwsError('IncompleteSignatureException', `${problems.join('')}Authorization=${authorization}`);
  }

  return {
    algorithm,
    credential: params.get('Credential') ?? '',
    signedHeaders: params.get('SignedHeaders') ?? '',
    signature: params.get('Signature') ?? '',
    amzDate: amzDate ?? fromHttpDate(httpDate ?? ''),
    expiresSeconds: undefined,
    payloadHash: singleValue(headers.get('x-amz-content-sha256')),
    securityToken: singleValue(headers.get('x-amz-security-token')),
  };
}

function readPresignedQuery(query: Array<[string, string]>, headers: Map<string, string | string[]>): SignatureClaim {
  const param = (name: string): string | undefined => query.find(([candidate]) => candidate === name)?.[1];
  const problems = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date']
    .filter((name) => !param(name))
    .map((name) => `AWS query-string parameters must include '${name}'. `);
  if (problems.length > 0) {
    throw new AwsError('IncompleteSignatureException', `${problems.join('')}Re-examine the query-string parameters.`);
  }

  const expires = param('X-Amz-Expires');
  return {
    algorithm: param('X-Amz-Algorithm') ?? '',
    credential: param('X-Amz-Credential') ?? '',
    signedHeaders: param('X-Amz-SignedHeaders') ?? '',
    signature: param('X-Amz-Signature') ?? '',
    amzDate: param('X-Amz-Date') ?? '',
    expiresSeconds: expires === undefined ? undefined : presignedLifetime(expires),
    payloadHash: singleValue(headers.get('x-amz-content-sha256')) ?? param('X-Amz-Content-Sha256'),
    securityToken: param('X-Amz-Security-Token'),
  };
}

// Wording of S3, the one AWS service that documents its X-Amz-Expires errors.
function presignedLifetime(expires: string): number {
  if (!/^\d+$/.test(expires)) throw new AwsError('IncompleteSignatureException', 'X-Amz-Expires should be a number');
  const seconds = Number(expires);
  if (seconds > maxPresignedLifetimeSeconds) {
    throw new AwsError(
      'IncompleteSignatureException',
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${maxPresignedLifetimeSeconds} seconds`,
    );
  }
  return seconds;
}

/** A `Date` header (RFC 9110 HTTP-date) in the basic format the string to sign uses. */
function fromHttpDate(httpDate: string): string {
  const ms = Date.parse(httpDate);
  return Number.isNaN(ms) ? httpDate : formatAmzDate(new Date(ms));
}

function parseAmzDate(amzDate: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  const ms = match === null ? NaN : Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!);
  // Date.UTC rolls 20261399 over into 2027; a real timestamp formats back to itself.
  if (Number.isNaN(ms) || formatAmzDate(new Date(ms)) !== amzDate) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  return ms;
}

function checkSigningTime(claim: SignatureClaim, nowMs: number): void {
  const signedAt = parseAmzDate(claim.amzDate);
  const now = formatAmzDate(new Date(nowMs));
  if (signedAt > nowMs + allowedClockSkewMs) {
    const latest = formatAmzDate(new Date(nowMs + allowedClockSkewMs));
    throw new AwsError(
      'InvalidSignatureException',
      `Signature not yet current: ${claim.amzDate} is still later than ${latest} (${now} + 5 min.)`,
    );
  }
  if (claim.expiresSeconds === undefined) {
    if (signedAt < nowMs - allowedClockSkewMs) {
      const earliest = formatAmzDate(new Date(nowMs - allowedClockSkewMs));
      throw new AwsError(
        'InvalidSignatureException',
        `Signature expired: ${claim.amzDate} is now earlier than ${earliest} (${now} - 5 min.)`,
      );
    }
    return;
  }
  // A presigned URL lives from its X-Amz-Date for X-Amz-Expires seconds; the wording is AWS's
  // skew message with the URL's lifetime in place of the 5 minutes.
  const lifetimeMs = claim.expiresSeconds * 1000;
  if (signedAt < nowMs - lifetimeMs) {
    const earliest = formatAmzDate(new Date(nowMs - lifetimeMs));
    throw new AwsError(
      'InvalidSignatureException',
      `Signature expired: ${claim.amzDate} is now earlier than ${earliest} (${now} - ${claim.expiresSeconds} sec.)`,
    );
  }
}

/** The service a well-formed scope names for this request, for the error that names it. */
function expectedService(headers: Map<string, string | string[]>): string {
  return singleValue(headers.get('x-amz-target'))?.startsWith('Firehose_') ? 'firehose' : 'kinesis';
}

/** `AKID/20260101/eu-west-1/kinesis/aws4_request`; any region is accepted. */
function readCredential(claim: SignatureClaim, service: string): { accessKeyId: string; scope: CredentialScope } {
  // AWS ignores trailing slashes here.
  const parts = claim.credential.replace(/\/+$/, '').split('/');
  if (parts.length !== 5) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${claim.credential}'`,
    );
  }
  const [accessKeyId = '', date = '', region = '', scopeService = '', terminator = ''] = parts;
  const requestDay = claim.amzDate.slice(0, 8);
  const problems: string[] = [];
  if (!acceptedServices.has(scopeService)) problems.push(`Credential should be scoped to correct service: '${service}'. `);
  if (terminator !== SCOPE_TERMINATOR) {
    problems.push(`Credential should be scoped with a valid terminator: '${SCOPE_TERMINATOR}', not '${terminator}'. `);
  }
  if (date !== requestDay) {
    problems.push(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${requestDay}', from '${claim.amzDate}'.`,
    );
  }
  if (problems.length > 0) throw new AwsError('InvalidSignatureException', problems.join(''));
  return { accessKeyId, scope: { date, region, service: scopeService } };
}

/**
 * The payload hash that entered the signature. A stated hash must be the body's — otherwise the
 * signature would vouch for a body that was swapped in transit; only UNSIGNED-PAYLOAD opts out.
 */
function verifiedPayloadHash(stated: string | undefined, body: Buffer): string {
  if (stated === UNSIGNED_PAYLOAD) return stated;
  const actual = sha256Hex(body);
  if (stated !== undefined && stated.toLowerCase() !== actual) {
    throw new AwsError('InvalidSignatureException', messages.signatureMismatch);
  }
  return stated ?? actual;
}

/** Constant time, so response timing does not reveal how much of a forged signature was right. */
function sameSignature(expected: string, provided: string): boolean {
  const expectedBytes = Buffer.from(expected);
  const providedBytes = Buffer.from(provided);
  return expectedBytes.length === providedBytes.length && timingSafeEqual(expectedBytes, providedBytes);
}

function createSigningKeyCache(): (key: AccessKeyConfig, scope: CredentialScope) => Buffer {
  const cache = new Map<string, Buffer>();
  return (key, scope) => {
    const id = [key.accessKeyId, scope.date, scope.region, scope.service].join('\n');
    let signingKey = cache.get(id);
    if (signingKey === undefined) {
      signingKey = deriveSigningKey(key.secretAccessKey, scope);
      cache.set(id, signingKey);
      // Maps iterate in insertion order: the first key is the oldest.
      if (cache.size > signingKeyCacheLimit) cache.delete(cache.keys().next().value!);
    }
    return signingKey;
  };
}

function singleValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Throws AccessDeniedException unless the identity's policy allows `action` on `resourceArn`.
 * No identity means the API runs open; an identity without a policy may do everything. An
 * action without a resource (ListStreams) is allowed only by a policy whose resources include
 * `*`, as in IAM.
 */
export function authorize(identity: Identity | undefined, action: string, resourceArn: string | undefined): void {
  const policy = identity?.policy;
  if (identity === undefined || policy === undefined) return;
  const actionAllowed = policy.actions.some((pattern) => wildcardMatch(pattern.toLowerCase(), action.toLowerCase()));
  const resourceAllowed =
    resourceArn === undefined
      ? policy.resources.some((pattern) => /^\*+$/.test(pattern))
      : policy.resources.some((pattern) => wildcardMatch(pattern, resourceArn));
  if (actionAllowed && resourceAllowed) return;
  const onResource = resourceArn === undefined ? '' : ` on resource: ${resourceArn}`;
  throw new AwsError(
    'AccessDeniedException',
    `User: ${identity.userArn} is not authorized to perform: ${action}${onResource} ` +
      `because no identity-based policy allows the ${action} action`,
  );
}

/** IAM wildcards: `*` matches any run of characters (':' and '/' included), `?` exactly one. */
function wildcardMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let lastStar = -1;
  let valueAtLastStar = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      lastStar = p++;
      valueAtLastStar = v;
    } else if (lastStar !== -1) {
      // Let the last '*' swallow one more character and retry from there.
      p = lastStar + 1;
      v = ++valueAtLastStar;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
