/**
 * What one Kinesis operation file exports. The request shape lives in the generated API model
 * (collector/api/schemas/kinesis-model.json, validated before `handle` runs); each operation file
 * declares the typed view of its validated input next to its handler.
 */
import type { HostedFunctions } from '../../consumers/functions/index.js';
import type { StreamStore } from '../../store/streams.js';

export interface KinesisContext {
  store: StreamStore;
  requestId: string;
  /** The hosted functions' mappings, for the Riffle-only RiffleFunctions_20250101 operations. */
  functions?: HostedFunctions;
}

export interface KinesisOperation<Input = any> {
  /** The AWS operation name, as in `X-Amz-Target: Kinesis_20131202.<name>`. */
  name: string;
  /** The ARN the call acts on, for access policies; undefined = account-level action. */
  resource(input: Input, ctx: KinesisContext): string | undefined;
  handle(input: Input, ctx: KinesisContext): Promise<unknown>;
}

/** Most operations address a stream by StreamName or StreamARN. */
export interface StreamAddress {
  StreamName?: string;
  StreamARN?: string;
}

export function streamRef(input: StreamAddress): { streamName?: string; streamArn?: string } {
  return { ...(input.StreamName !== undefined ? { streamName: input.StreamName } : {}), ...(input.StreamARN !== undefined ? { streamArn: input.StreamARN } : {}) };
}

export function streamResource(input: StreamAddress, ctx: KinesisContext): string {
  return ctx.store.streamArn(ctx.store.nameOf(streamRef(input)));
}
