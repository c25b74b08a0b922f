/** Creates the benchmark stream through the Kinesis API and waits until it takes writes. */
import { setTimeout as delay } from 'node:timers/promises';
import type { KinesisHttpClient } from './kinesis-http-client.js';

/** Both targets start with a 0 ms CREATING delay; this bounds a target that never gets there. */
const ACTIVE_DEADLINE_MS = 10_000;
const STATUS_POLL_MS = 20;

/** Returns the stream's shard ids, in the order ListShards gives them. */
export async function createBenchStream(client: KinesisHttpClient, streamName: string, shardCount: number): Promise<string[]> {
  await client.call('CreateStream', { StreamName: streamName, ShardCount: shardCount });
  const deadline = Date.now() + ACTIVE_DEADLINE_MS;
  for (;;) {
    const { StreamDescriptionSummary } = await client.call<{ StreamDescriptionSummary: { StreamStatus: string } }>('DescribeStreamSummary', {
      StreamName: streamName,
    });
    if (StreamDescriptionSummary.StreamStatus === 'ACTIVE') break;
    if (Date.now() > deadline) throw new Error(`stream ${streamName} still ${StreamDescriptionSummary.StreamStatus} after ${ACTIVE_DEADLINE_MS} ms`);
    // Polling a server-side state change: there is no event to wait on over the Kinesis API.
    await delay(STATUS_POLL_MS);
  }
  const { Shards } = await client.call<{ Shards: Array<{ ShardId: string }> }>('ListShards', { StreamName: streamName });
  return Shards.map((shard) => shard.ShardId);
}
