/**
 * The read phase: every shard from TRIM_HORIZON to its tip with GetRecords, all shards at once,
 * tallying what comes back (see shard-tally.ts) and checking sequence numbers only ever grow.
 * Answers are scanned, not parsed (get-records-scanner.ts), so the reader stays cheaper than
 * the server it measures.
 */
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { base64DecodedLength, scanGetRecordsAnswer } from './get-records-scanner.js';
import type { KinesisHttpClient } from './kinesis-http-client.js';
import { addToTally, type ShardTallies } from './shard-tally.js';

/** GetRecords quota: at most 10,000 records per call. */
const GET_RECORDS_LIMIT = 10_000;

export interface ReadBackResult {
  tallies: ShardTallies;
  records: number;
  dataBytes: number;
  calls: number;
  elapsedMs: number;
  clientCpuMs: number;
  /** Places where a shard's sequence numbers did not increase. */
  orderViolations: string[];
}

export async function readBackAllShards(client: KinesisHttpClient, streamName: string, shardIds: string[]): Promise<ReadBackResult> {
  const result: ReadBackResult = { tallies: {}, records: 0, dataBytes: 0, calls: 0, elapsedMs: 0, clientCpuMs: 0, orderViolations: [] };
  const cpuAtStart = process.cpuUsage();
  const startedMs = performance.now();
  await Promise.all(shardIds.map((shardId) => readShard(client, streamName, shardId, result)));
  result.elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuAtStart);
  result.clientCpuMs = (cpu.user + cpu.system) / 1000;
  return result;
}

async function readShard(client: KinesisHttpClient, streamName: string, shardId: string, result: ReadBackResult): Promise<void> {
  let { ShardIterator: iterator } = await client.call<{ ShardIterator?: string }>('GetShardIterator', {
    StreamName: streamName,
    ShardId: shardId,
    ShardIteratorType: 'TRIM_HORIZON',
  });
  let previousSequence: string | undefined;
  // Neither target returns an empty page before a shard's tip; if one did, the tallies would
  // come up short and the run would say so.
  while (iterator !== undefined) {
    const answer = await client.callForBody('GetRecords', { ShardIterator: iterator, Limit: GET_RECORDS_LIMIT });
    const page = scanGetRecordsAnswer(answer);
    result.calls++;
    if (page.records.length === 0) return;
    for (const record of page.records) {
      const dataBytes = base64DecodedLength(answer, record.dataStart, record.dataEnd);
      addToTally(result.tallies, shardId, crc32(answer.subarray(record.dataStart, record.dataEnd)), dataBytes);
      result.records++;
      result.dataBytes += dataBytes;
      if (previousSequence !== undefined && !sequenceIsAfter(record.sequenceNumber, previousSequence)) {
        result.orderViolations.push(`${shardId}: ${record.sequenceNumber} after ${previousSequence}`);
      }
      previousSequence = record.sequenceNumber;
    }
    iterator = page.nextShardIterator;
  }
}

/** Sequence numbers are decimal strings without leading zeros: longer is larger, equal lengths compare as text. */
function sequenceIsAfter(candidate: string, previous: string): boolean {
  return candidate.length !== previous.length ? candidate.length > previous.length : candidate > previous;
}
