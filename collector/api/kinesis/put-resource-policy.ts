import { AwsError } from '../../../shared/errors.js';
import type { KinesisOperation } from './operation.js';
import { resourceOf, writableHolderOf } from './resource-arn.js';

export interface PutResourcePolicyInput {
  ResourceARN: string;
  Policy: string;
}

export const putResourcePolicy: KinesisOperation<PutResourcePolicyInput> = {
  name: 'PutResourcePolicy',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    checkPolicyDocument(input.Policy);
    const resource = resourceOf(store, input.ResourceARN);
    store.describeActive(resource.stream);
    await store.updateMeta(resource.stream, (meta) => (writableHolderOf(meta, resource).resourcePolicy = input.Policy), { requireActive: true });
    return {};
  },
};

/** A policy is "formatted as a JSON string" (PutResourcePolicy API reference): one JSON object. */
function checkPolicyDocument(policy: string): void {
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch {
    document = undefined;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new AwsError('InvalidArgumentException', 'The resource policy is not a valid JSON policy document.');
  }
}
