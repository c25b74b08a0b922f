import { AwsError } from '../../../shared/errors.js';
import type { LeaseChange } from '../../store/leases.js';
import { leaseOutput, optionalString, requireCounter, requireName, requireShardId, type RiffleOperation } from './operation.js';

export interface UpdateLeaseInput {
  applicationName: string;
  streamName: string;
  shardId: string;
  expectedLeaseCounter: number;
  change: LeaseChange;
}

/**
 * `UpdateLease {ApplicationName, StreamName, ShardId, ExpectedLeaseCounter, LeaseOwner?, ReleaseLease?, Checkpoint?}`
 * → `{Lease}`: takes, renews (same owner), releases or checkpoints a lease if its counter is
 * still ExpectedLeaseCounter, else ConditionalCheckFailedException. Every success bumps the counter.
 */
export const updateLease: RiffleOperation<UpdateLeaseInput> = {
  name: 'UpdateLease',
  validate(input) {
    const owner = optionalString(input, 'LeaseOwner');
    const release = input.ReleaseLease === true;
    if (release && owner !== undefined) throw new AwsError('ValidationException', 'LeaseOwner and ReleaseLease cannot be given together.');
    const checkpoint = optionalString(input, 'Checkpoint', 128);
    return {
      applicationName: requireName(input, 'ApplicationName'),
      streamName: requireName(input, 'StreamName'),
      shardId: requireShardId(input),
      expectedLeaseCounter: requireCounter(input, 'ExpectedLeaseCounter'),
      change: { ...(release ? { owner: null } : owner !== undefined ? { owner } : {}), ...(checkpoint !== undefined ? { checkpoint } : {}) },
    };
  },
  resource: (input, { store }) => store.streamArn(input.streamName),
  async handle(input, { store }) {
    const lease = await store.leases.update(input.applicationName, input.streamName, input.shardId, input.expectedLeaseCounter, input.change);
    return { Lease: leaseOutput(lease, store.now()) };
  },
};
