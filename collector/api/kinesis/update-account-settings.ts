import type { AccountSettings } from '../../store/metadata.js';
import { billingCommitmentView } from './describe-account-settings.js';
import type { KinesisOperation } from './operation.js';

export interface UpdateAccountSettingsInput {
  MinimumThroughputBillingCommitment: { Status: 'ENABLED' | 'DISABLED' };
}

/** "Commitments have a minimum duration of 24 hours" (MinimumThroughputBillingCommitmentInput, API reference). */
export const MINIMUM_COMMITMENT_MS = 24 * 3600_000;

export const updateAccountSettings: KinesisOperation<UpdateAccountSettingsInput> = {
  name: 'UpdateAccountSettings',
  resource: () => undefined,
  async handle(input, { store }) {
    const now = store.now();
    const next = nextCommitment(store.getAccountSettings(), input.MinimumThroughputBillingCommitment.Status, now);
    await store.setAccountSettings(next);
    return { MinimumThroughputBillingCommitment: billingCommitmentView(next, now) };
  },
};

/**
 * Enabling starts a commitment (or cancels a pending disable, keeping the running one); disabling
 * ends it now, or — before the earliest allowed end — schedules the end for that time, as AWS does.
 */
function nextCommitment(settings: AccountSettings, wanted: 'ENABLED' | 'DISABLED', nowMs: number): AccountSettings {
  const current = settings.minimumThroughputBillingCommitment;
  const inForce = current !== undefined && (current.status === 'ENABLED' || (current.endedMs !== undefined && current.endedMs > nowMs));
  if (wanted === 'ENABLED') {
    if (current && inForce) {
      return { ...settings, minimumThroughputBillingCommitment: { status: 'ENABLED', startedMs: current.startedMs, earliestEndMs: current.earliestEndMs } };
    }
    return { ...settings, minimumThroughputBillingCommitment: { status: 'ENABLED', startedMs: nowMs, earliestEndMs: nowMs + MINIMUM_COMMITMENT_MS } };
  }
  if (!current || current.status === 'DISABLED') return settings;
  const endedMs = current.earliestEndMs !== undefined && current.earliestEndMs > nowMs ? current.earliestEndMs : nowMs;
  return { ...settings, minimumThroughputBillingCommitment: { ...current, status: 'DISABLED', endedMs } };
}
