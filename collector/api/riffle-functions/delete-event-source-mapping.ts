import type { RiffleOperation } from '../riffle-leases/operation.js';
import { requireName } from '../riffle-leases/operation.js';
import { hostedFunctions } from './operation.js';

/** `DeleteEventSourceMapping {Name}` → `{}` once the mapping stopped; its checkpoints stay. */
export const deleteEventSourceMapping: RiffleOperation<{ name: string }> = {
  name: 'DeleteEventSourceMapping',
  validate: (input) => ({ name: requireName(input, 'Name') }),
  resource: () => undefined,
  async handle(input, ctx) {
    await hostedFunctions(ctx).delete(input.name);
    return {};
  },
};
