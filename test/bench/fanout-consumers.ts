/**
 * The enhanced fan-out side of bench:fanout, in its own process (`fork`ed by fanout.ts) so the
 * consumers' decoding never shares an event loop with the producer: every consumer subscribes to
 * every shard with the AWS SDK v3's SubscribeToShardCommand (its default HTTP/2 handler) and notes,
 * per record, now − the send time the producer wrote into the record's first 8 bytes.
 *
 * IPC: the plan arrives in argv[2]; the parent sends `{type: 'window', startMs, endMs}` (records
 * sent inside it are counted), then `{type: 'report'}`, answered with `{type: 'result', consumers}`.
 */
import { performance } from 'node:perf_hooks';
import { SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../helpers/kinesis-client.js';

export interface FanOutPlan {
  endpoint: string;
  consumerArns: string[];
  shardIds: string[];
}

export interface ConsumerTally {
  consumerArn: string;
  records: number;
  bytes: number;
  latenciesMs: number[];
}

const plan = JSON.parse(process.argv[2]!) as FanOutPlan;
const epochMs = () => performance.timeOrigin + performance.now();
let window = { startMs: Infinity, endMs: Infinity };
const tallies: ConsumerTally[] = plan.consumerArns.map((consumerArn) => ({ consumerArn, records: 0, bytes: 0, latenciesMs: [] }));
const client = kinesisClient(plan.endpoint);

async function follow(tally: ConsumerTally, shardId: string): Promise<void> {
  const output = await client.send(new SubscribeToShardCommand({ ConsumerARN: tally.consumerArn, ShardId: shardId, StartingPosition: { Type: 'LATEST' } }));
  for await (const event of output.EventStream!) {
    const receivedMs = epochMs();
    for (const record of event.SubscribeToShardEvent?.Records ?? []) {
      const data = Buffer.from(record.Data!);
      const sentMs = data.readDoubleBE(0);
      if (sentMs < window.startMs || sentMs >= window.endMs) continue;
      tally.records++;
      tally.bytes += data.length;
      tally.latenciesMs.push(receivedMs - sentMs);
    }
  }
}

process.on('message', (message: { type: string; startMs?: number; endMs?: number }) => {
  if (message.type === 'window') window = { startMs: message.startMs!, endMs: message.endMs! };
  if (message.type === 'report') process.send!({ type: 'result', consumers: tallies });
});

for (const tally of tallies) {
  for (const shardId of plan.shardIds) {
    follow(tally, shardId).catch((error) => {
      process.stderr.write(`subscription ${tally.consumerArn} ${shardId} failed: ${String(error)}\n`);
      process.exit(1);
    });
  }
}
process.send!({ type: 'subscribed' });
