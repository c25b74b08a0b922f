/**
 * Riffle-only operations for the consumer library's shard leases and checkpoints, under
 * `X-Amz-Target: RiffleLeases_20250101.<Operation>` (JSON 1.1, SigV4 as for Kinesis). AWS has no
 * such API — the KCL keeps leases in DynamoDB — so the request shapes are declared here, small
 * and checked by hand; the wire conventions (PascalCase, `__type` errors) are Kinesis's.
 * Access policies see the actions as `riffle:<Operation>` on the stream's ARN.
 */
import { AwsError } from '../../../shared/errors.js';
import type { Lease } from '../../store/leases.js';
import type { KinesisContext } from '../kinesis/operation.js';

export const LEASES_TARGET_PREFIX = 'RiffleLeases_20250101.';

/** A Riffle-only operation (leases here, hosted-function mappings in ../riffle-functions). */
export interface RiffleOperation<Input> {
  name: string;
  validate(input: Record<string, unknown>): Input;
  /** The ARN access policies see; undefined = account-level, as ListStreams. */
  resource(input: Input, ctx: KinesisContext): string | undefined;
  handle(input: Input, ctx: KinesisContext): Promise<unknown>;
}

/** Application, stream and shard names follow Kinesis's stream-name rule. */
const NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

function invalid(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

export function requireName(input: Record<string, unknown>, member: string): string {
  const value = input[member];
  if (typeof value !== 'string' || !NAME.test(value)) throw invalid(`${member} must be a string matching ${NAME.source}.`);
  return value;
}

export function requireShardId(input: Record<string, unknown>, member = 'ShardId'): string {
  return requireName(input, member);
}

export function optionalString(input: Record<string, unknown>, member: string, max = 256): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) throw invalid(`${member} must be a string of at most ${max} characters.`);
  return value;
}

export function requireCounter(input: Record<string, unknown>, member: string): number {
  const value = input[member];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${member} must be a non-negative integer.`);
  return value;
}

export function shardIdList(input: Record<string, unknown>, member: string): string[] {
  const value = input[member] ?? [];
  if (!Array.isArray(value) || value.length > 2 || !value.every((id) => typeof id === 'string' && NAME.test(id))) {
    throw invalid(`${member} must be a list of at most 2 shard ids.`);
  }
  return value as string[];
}

/** A lease as the wire shows it. */
export function leaseOutput(lease: Lease, nowMs: number): Record<string, unknown> {
  return {
    ShardId: lease.shardId,
    ...(lease.owner !== undefined ? { LeaseOwner: lease.owner } : {}),
    LeaseCounter: lease.counter,
    ...(lease.checkpoint !== undefined ? { Checkpoint: lease.checkpoint } : {}),
    ParentShardIds: lease.parentShardIds,
    MillisSinceUpdate: Math.max(0, nowMs - lease.updatedMs),
  };
}
