import type { AccountSettings } from '../../store/metadata.js';
import type { StreamStore } from '../../store/streams.js';
import type { KinesisOperation } from './operation.js';

export const describeAccountSettings: KinesisOperation<Record<string, never>> = {
  name: 'DescribeAccountSettings',
  resource: () => undefined,
  async handle(_input, { store }) {
    return { MinimumThroughputBillingCommitment: billingCommitmentView(store.getAccountSettings(), store.now()) };
  },
};

type CommitmentStatus = 'ENABLED' | 'DISABLED' | 'ENABLED_UNTIL_EARLIEST_ALLOWED_END';

/**
 * The stored commitment as AWS reports it. A disable asked for before the earliest allowed end is
 * stored as DISABLED with the end still ahead; until then the commitment reads
 * ENABLED_UNTIL_EARLIEST_ALLOWED_END.
 */
export function billingCommitmentView(
  settings: AccountSettings,
  nowMs: number,
): { Status: CommitmentStatus; StartedAt?: Date; EndedAt?: Date; EarliestAllowedEndAt?: Date } {
  const commitment = settings.minimumThroughputBillingCommitment;
  if (!commitment) return { Status: 'DISABLED' };
  const pendingEnd = commitment.status === 'DISABLED' && commitment.endedMs !== undefined && commitment.endedMs > nowMs;
  return {
    Status: commitment.status === 'ENABLED' ? 'ENABLED' : pendingEnd ? 'ENABLED_UNTIL_EARLIEST_ALLOWED_END' : 'DISABLED',
    ...(commitment.startedMs !== undefined ? { StartedAt: new Date(commitment.startedMs) } : {}),
    ...(commitment.endedMs !== undefined && !pendingEnd ? { EndedAt: new Date(commitment.endedMs) } : {}),
    ...(commitment.earliestEndMs !== undefined ? { EarliestAllowedEndAt: new Date(commitment.earliestEndMs) } : {}),
  };
}

/** Whether the account's minimum throughput billing commitment is in force now (warm throughput needs it). */
export function billingCommitmentInForce(store: StreamStore): boolean {
  return billingCommitmentView(store.getAccountSettings(), store.now()).Status !== 'DISABLED';
}
