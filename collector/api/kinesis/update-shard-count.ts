import { AwsError } from '../../../shared/errors.js';
import type { StreamMeta } from '../../store/metadata.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface UpdateShardCountInput extends StreamAddress {
  TargetShardCount: number;
  ScalingType: 'UNIFORM_SCALING';
}

export const updateShardCount: KinesisOperation<UpdateShardCountInput> = {
  name: 'UpdateShardCount',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const meta = store.describeActive(ref);
    requireProvisioned(meta, 'UpdateShardCount', store.accountId);
    const current = await store.updateShardCount(ref, input.TargetShardCount);
    return { StreamName: meta.name, CurrentShardCount: current, TargetShardCount: input.TargetShardCount, StreamARN: store.streamArn(meta.name) };
  },
};

/** SplitShard, MergeShards and UpdateShardCount: "This API is only supported for the data streams with the provisioned capacity mode." */
export function requireProvisioned(meta: StreamMeta, operation: string, accountId: string): void {
  if (meta.mode !== 'PROVISIONED') {
    throw new AwsError('ValidationException', `${operation} is not supported for stream ${meta.name} under account ${accountId} because it is in ${meta.mode} capacity mode.`);
  }
}
