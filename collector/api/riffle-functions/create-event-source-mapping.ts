import type { RiffleOperation } from '../riffle-leases/operation.js';
import { hostedFunctions, mappingOutput } from './operation.js';

/** `CreateEventSourceMapping {<a functions config entry>}` → `{EventSourceMapping}`; running (and durable) when it answers. */
export const createEventSourceMapping: RiffleOperation<Record<string, unknown>> = {
  name: 'CreateEventSourceMapping',
  // The entry is validated by the mapping registry, with the config file's rules.
  validate: (input) => input,
  resource: (input, { store }) => (typeof input.streamName === 'string' ? store.streamArn(input.streamName) : undefined),
  async handle(input, ctx) {
    const mapping = await hostedFunctions(ctx).create(input);
    return { EventSourceMapping: mappingOutput(mapping, 'api') };
  },
};
