import type { KinesisOperation } from './operation.js';
import { resourceOf, writableHolderOf } from './resource-arn.js';

export interface DeleteResourcePolicyInput {
  ResourceARN: string;
}

export const deleteResourcePolicy: KinesisOperation<DeleteResourcePolicyInput> = {
  name: 'DeleteResourcePolicy',
  resource: (input) => input.ResourceARN,
  async handle(input, { store }) {
    const resource = resourceOf(store, input.ResourceARN);
    store.describeActive(resource.stream);
    await store.updateMeta(resource.stream, (meta) => delete writableHolderOf(meta, resource).resourcePolicy, { requireActive: true });
    return {};
  },
};
