/**
 * Pagination tokens of the List* operations (ListShards, ListStreams): opaque to clients, naming
 * where the next page starts, and expiring as AWS's do — "Tokens expire after 300 seconds"
 * (ListShards API reference) with ExpiredNextTokenException.
 *
 * A token is not sealed: an operation authorizes against the stream the decoded token names, so a
 * hand-made token grants nothing a plain request would not.
 */
import { AwsError } from '../../../shared/errors.js';

export const NEXT_TOKEN_LIFETIME_MS = 300_000;

const TOKEN_VERSION = 1;

export function encodeNextToken(page: object, nowMs: number): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, issuedMs: nowMs, page })).toString('base64url');
}

/**
 * The page a token names, if `isPage` accepts it; InvalidArgumentException for anything this
 * server did not issue, ExpiredNextTokenException once the token is older than its lifetime.
 */
export function decodeNextToken<Page>(token: string, nowMs: number, isPage: (page: unknown) => page is Page): Page {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (!isTokenEnvelope(decoded) || !isPage(decoded.page)) {
    throw new AwsError('InvalidArgumentException', `Invalid NextToken: ${token}`);
  }
  if (nowMs - decoded.issuedMs > NEXT_TOKEN_LIFETIME_MS) {
    throw new AwsError('ExpiredNextTokenException', `The NextToken has expired. Tokens expire ${NEXT_TOKEN_LIFETIME_MS / 1000} seconds after they are issued.`);
  }
  return decoded.page;
}

function isTokenEnvelope(value: unknown): value is { v: number; issuedMs: number; page: unknown } {
  if (typeof value !== 'object' || value === null) return false;
  const envelope = value as Record<string, unknown>;
  return envelope.v === TOKEN_VERSION && typeof envelope.issuedMs === 'number' && 'page' in envelope;
}
