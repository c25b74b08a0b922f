/** The Riffle-only hosted-function operations, by their `X-Amz-Target` name (see operation.ts). */
import type { RiffleOperation } from '../riffle-leases/operation.js';
import { createEventSourceMapping } from './create-event-source-mapping.js';
import { deleteEventSourceMapping } from './delete-event-source-mapping.js';
import { listEventSourceMappings } from './list-event-source-mappings.js';

export { FUNCTIONS_TARGET_PREFIX } from './operation.js';

const operations: Array<RiffleOperation<any>> = [createEventSourceMapping, deleteEventSourceMapping, listEventSourceMappings];

export const functionOperations: ReadonlyMap<string, RiffleOperation<any>> = new Map(operations.map((operation) => [operation.name, operation]));
