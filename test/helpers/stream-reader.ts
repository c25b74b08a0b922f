/**
 * Reads everything a stream holds, shard by shard with GetRecords, keeping one iterator per shard
 * so each poll only fetches what is new: the agent's end-to-end tests wait on it until the
 * records they expect have arrived. For streams that are not resharded while being read.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { allArrived, describeDelivery } from './delivery-tally.js';
import { listAllShards } from './kinesis-client.js';
import { pollUntil } from './poll.js';

/** GetRecords: 5 calls per second per shard — Kinesis quota, which the collector enforces. */
const MIN_MILLIS_BETWEEN_CALLS = 200;

interface ShardCursor {
  iterator: string;
  lastCallAt: number;
}

export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
}

/** The records' data as text, in the order given. */
export function recordTexts(records: readonly StreamRecord[]): string[] {
  return records.map((record) => record.data.toString());
}

export class StreamReader {
  /** Every record read so far: shard by shard, each shard's in sequence order. */
  readonly records: StreamRecord[] = [];
  private cursors: Map<string, ShardCursor> | undefined;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  /** Reads what arrived since the last call, up to each shard's end, and returns it (also appended to `records`). */
  async readNew(): Promise<StreamRecord[]> {
    if (!this.cursors) {
      this.cursors = new Map();
      for (const shard of await listAllShards(this.client, this.streamName)) {
        const { ShardIterator } = await this.client.send(
          new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        this.cursors.set(shard.ShardId!, { iterator: ShardIterator!, lastCallAt: 0 });
      }
    }
    const fresh: StreamRecord[] = [];
    for (const [shardId, cursor] of this.cursors) {
      for (;;) {
        // Pacing under the quota, not synchronisation: the call is made either way.
        const wait = cursor.lastCallAt + MIN_MILLIS_BETWEEN_CALLS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        cursor.lastCallAt = Date.now();
        const page = await this.client.send(new GetRecordsCommand({ ShardIterator: cursor.iterator }));
        const records = page.Records ?? [];
        for (const record of records) {
          fresh.push({ shardId, sequenceNumber: record.SequenceNumber!, partitionKey: record.PartitionKey!, data: Buffer.from(record.Data!) });
        }
        if (page.NextShardIterator === undefined) break; // closed and read to its end
        cursor.iterator = page.NextShardIterator;
        if (records.length === 0 || page.MillisBehindLatest === 0) break;
      }
    }
    this.records.push(...fresh);
    return fresh;
  }

  /** Reads until `holds(records)`, polling with a bound; `describe` explains a timeout (what is missing). */
  async waitFor(what: string, holds: (records: readonly StreamRecord[]) => boolean, options: { timeoutMs?: number; describe?: (records: readonly StreamRecord[]) => string } = {}): Promise<StreamRecord[]> {
    await pollUntil(
      `stream ${this.streamName}: ${what}`,
      async () => {
        await this.readNew();
        return holds(this.records);
      },
      { timeoutMs: options.timeoutMs ?? 20_000, intervalMs: MIN_MILLIS_BETWEEN_CALLS, describe: () => `${this.records.length} records${options.describe ? `; ${options.describe(this.records)}` : ''}` },
    );
    return this.records;
  }

  /** Reads until every one of `expected` (a record's data as text) arrived at least once; a timeout says what is missing. */
  waitForAll(what: string, expected: readonly string[], timeoutMs?: number): Promise<StreamRecord[]> {
    return this.waitFor(what, (records) => allArrived(expected, recordTexts(records)), {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      describe: (records) => describeDelivery(expected, recordTexts(records)),
    });
  }
}
