/**
 * The Riffle consumer library: KCL-style workers that share a stream's shards through leases and
 * checkpoints kept in the collector. See README "Consumer library".
 */
export { ConsumerWorker, type WorkerOptions } from './worker.js';
export type { Checkpointer, RecordProcessor } from './processor.js';
export type { ConsumerRecord } from './records.js';
export { LeaseLostError, SHARD_END } from './held-lease.js';
export { ConsumerApiError, type ConnectionOptions } from './api-client.js';
export type { InitialPosition } from './shard-consumer.js';
