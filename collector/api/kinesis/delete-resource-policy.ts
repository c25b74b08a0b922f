import type { KinesisOperation } from './operation.js';
import { streamOfResource } from './resource-arn.js';

export interface DeleteResourcePolicyInput {
  ResourceARN: string;
}

export const deleteResourcePolicy: KinesisOperation<DeleteResourcePolicyInput> = {
  name: 'DeleteResourcePolicy',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    const ref = streamOfResource(input.ResourceARN);
    store.describeActive(ref);
    await store.updateMeta(ref, (meta) => delete meta.resourcePolicy, { requireActive: true });
    return {};
  },
};
