import type { KinesisOperation } from './operation.js';
import { streamOfResource } from './resource-arn.js';

export interface GetResourcePolicyInput {
  ResourceARN: string;
}

/** A stream without a policy answers the empty policy `{}`, as AWS does. */
const NO_POLICY = '{}';

export const getResourcePolicy: KinesisOperation<GetResourcePolicyInput> = {
  name: 'GetResourcePolicy',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    return { Policy: store.describe(streamOfResource(input.ResourceARN)).resourcePolicy ?? NO_POLICY };
  },
};
