import type { KinesisOperation } from './operation.js';
import { holderOf, resourceOf } from './resource-arn.js';

export interface GetResourcePolicyInput {
  ResourceARN: string;
}

/** A stream without a policy answers the empty policy `{}`, as AWS does. */
const NO_POLICY = '{}';

export const getResourcePolicy: KinesisOperation<GetResourcePolicyInput> = {
  name: 'GetResourcePolicy',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    const resource = resourceOf(store, input.ResourceARN);
    return { Policy: holderOf(store.describe(resource.stream), resource).resourcePolicy ?? NO_POLICY };
  },
};
