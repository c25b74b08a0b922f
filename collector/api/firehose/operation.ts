/**
 * What one Firehose operation file exports. The request shape lives in the generated API model
 * (collector/api/schemas/firehose-model.json, validated before `handle` runs); each operation
 * file declares the typed view of its validated input next to its handler.
 */
import type { DeliveryStreams } from '../../delivery/delivery-streams.js';

export interface FirehoseContext {
  deliveryStreams: DeliveryStreams;
  requestId: string;
}

export interface FirehoseOperation<Input = any> {
  /** The AWS operation name, as in `X-Amz-Target: Firehose_20150804.<name>`. */
  name: string;
  /** The ARN the call acts on, for access policies; undefined = account-level action. */
  resource(input: Input, ctx: FirehoseContext): string | undefined;
  handle(input: Input, ctx: FirehoseContext): Promise<unknown>;
}

/** Most operations address a delivery stream by name. */
export function deliveryStreamResource(input: { DeliveryStreamName: string }, ctx: FirehoseContext): string {
  return ctx.deliveryStreams.arn(input.DeliveryStreamName);
}
