import { leaseOutput, requireName, requireShardId, shardIdList, type RiffleOperation } from './operation.js';

export interface CreateLeaseInput {
  applicationName: string;
  streamName: string;
  shardId: string;
  parentShardIds: string[];
}

/**
 * `CreateLease {ApplicationName, StreamName, ShardId, ParentShardIds}` → `{Lease}`: a free lease
 * at counter 0, or the existing one unchanged (any worker may create leases for new shards).
 */
export const createLease: RiffleOperation<CreateLeaseInput> = {
  name: 'CreateLease',
  validate: (input) => ({
    applicationName: requireName(input, 'ApplicationName'),
    streamName: requireName(input, 'StreamName'),
    shardId: requireShardId(input),
    parentShardIds: shardIdList(input, 'ParentShardIds'),
  }),
  resource: (input, { store }) => store.streamArn(input.streamName),
  async handle(input, { store }) {
    store.describe({ streamName: input.streamName }); // ResourceNotFoundException for an unknown stream
    const lease = await store.leases.create(input.applicationName, input.streamName, input.shardId, input.parentShardIds);
    return { Lease: leaseOutput(lease, store.now()) };
  },
};
