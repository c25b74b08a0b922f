import { AwsError } from '../../../shared/errors.js';
import type { StreamMode } from '../../store/metadata.js';
import type { StreamStore } from '../../store/streams.js';
import { billingCommitmentInForce } from './describe-account-settings.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface UpdateStreamWarmThroughputInput extends StreamAddress {
  WarmThroughputMiBps: number;
}

export const updateStreamWarmThroughput: KinesisOperation<UpdateStreamWarmThroughputInput> = {
  name: 'UpdateStreamWarmThroughput',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const meta = store.describeActive(ref);
    checkWarmThroughput(store, meta.mode, input.WarmThroughputMiBps);
    const current = meta.warmThroughputMiBps ?? 0;
    await store.updateSettingsAfterDelay(ref, { warmThroughputMiBps: input.WarmThroughputMiBps });
    return {
      StreamARN: store.streamArn(meta.name),
      StreamName: meta.name,
      WarmThroughput: { TargetMiBps: input.WarmThroughputMiBps, CurrentMiBps: current },
    };
  },
};

/** UpdateStreamWarmThroughput default limit: "Scale to more than 10 GiBps for an on-demand stream" is refused. */
const MAX_WARM_THROUGHPUT_MIBPS = 10 * 1024;

/**
 * Warm throughput "is only supported for data streams with the on-demand capacity mode in accounts
 * that have MinimumThroughputBillingCommitment enabled" (UpdateStreamWarmThroughput API reference).
 */
export function checkWarmThroughput(store: StreamStore, mode: StreamMode, mibps: number): void {
  if (mode !== 'ON_DEMAND') {
    throw new AwsError('InvalidArgumentException', 'Warm throughput is supported only for streams in ON_DEMAND capacity mode.');
  }
  if (!billingCommitmentInForce(store)) {
    throw new AwsError('InvalidArgumentException', `Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account ${store.accountId}.`);
  }
  if (mibps > MAX_WARM_THROUGHPUT_MIBPS) {
    throw new AwsError('LimitExceededException', `Requested warm throughput of ${mibps} MiBps exceeds the limit of ${MAX_WARM_THROUGHPUT_MIBPS} MiBps for an on-demand stream.`);
  }
}
