/** The Riffle-only lease operations, by their `X-Amz-Target` name (see operation.ts). */
import { createLease } from './create-lease.js';
import { listLeases } from './list-leases.js';
import type { RiffleOperation } from './operation.js';
import { updateLease } from './update-lease.js';

const operations: Array<RiffleOperation<any>> = [createLease, listLeases, updateLease];

export const leaseOperations: ReadonlyMap<string, RiffleOperation<any>> = new Map(operations.map((operation) => [operation.name, operation]));
