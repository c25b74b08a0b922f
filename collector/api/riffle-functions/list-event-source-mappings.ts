import type { RiffleOperation } from '../riffle-leases/operation.js';
import { hostedFunctions, mappingOutput } from './operation.js';

/** `ListEventSourceMappings {}` → `{EventSourceMappings: [...]}`, config-file and API ones, by name. */
export const listEventSourceMappings: RiffleOperation<Record<string, never>> = {
  name: 'ListEventSourceMappings',
  validate: () => ({}),
  resource: () => undefined,
  async handle(_input, ctx) {
    return { EventSourceMappings: hostedFunctions(ctx).list().map(({ mapping, origin }) => mappingOutput(mapping, origin)) };
  },
};
