import { leaseOutput, requireName, type RiffleOperation } from './operation.js';

export interface ListLeasesInput {
  applicationName: string;
  streamName: string;
}

/** `ListLeases {ApplicationName, StreamName}` → `{Leases: [Lease]}`, by shard id. */
export const listLeases: RiffleOperation<ListLeasesInput> = {
  name: 'ListLeases',
  validate: (input) => ({ applicationName: requireName(input, 'ApplicationName'), streamName: requireName(input, 'StreamName') }),
  resource: (input, { store }) => store.streamArn(input.streamName),
  async handle(input, { store }) {
    const now = store.now();
    return { Leases: store.leases.list(input.applicationName, input.streamName).map((lease) => leaseOutput(lease, now)) };
  },
};
