/** The Riffle-only lease operations, by their `X-Amz-Target` name (see operation.ts). */
import { createLease } from './create-lease.js';
import { listLeases } from './list-leases.js';
import type { LeaseOperation } from './operation.js';
import { updateLease } from './update-lease.js';

const operations: Array<LeaseOperation<any>> = [createLease, listLeases, updateLease];

export const leaseOperations: ReadonlyMap<string, LeaseOperation<any>> = new Map(operations.map((operation) => [operation.name, operation]));
