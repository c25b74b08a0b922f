/**
 * bench:scale — 1,000 shards across streams on one box, tens of millions of records, and the
 * collector's memory while it takes them (target: RSS under ~200 MB, not growing with the data).
 *
 * 10 streams × 100 shards; PutRecords of 500 × 100-byte records with random partition keys
 * (so every call touches many shards) from 4 keep-alive connections until SCALE_RECORDS records
 * are stored; the collector's RSS is sampled from /proc every 500 ms. Then a restart on the same
 * data dir (time to listen, RSS) and a GetRecords walk over a sample of shards checking counts.
 * `SCALE_RECORDS` (default 20,000,000) sets the size.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createKeepAliveAgent, KinesisHttpClient } from './kinesis-http-client.js';
import { createBenchStream } from './stream-setup.js';

const STREAMS = 10;
const SHARDS_PER_STREAM = 100;
const RECORDS_PER_CALL = 500;
const RECORD_BYTES = 100;
const CONNECTIONS = 4;
const TOTAL_RECORDS = Number(process.env.SCALE_RECORDS ?? 20_000_000);

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function sampleRss(collector: CollectorProcess): { stop: () => { peak: number; last: number; samples: number[] } } {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssMB(collector.child.pid!)), 500);
  return {
    stop() {
      clearInterval(timer);
      samples.push(rssMB(collector.child.pid!));
      return { peak: Math.max(...samples), last: samples[samples.length - 1]!, samples };
    },
  };
}

/** A PutRecords body for `stream`, built as text once per call: the client must not be the bottleneck. */
function putRecordsBody(stream: string, data: string[]): Buffer {
  const records = data.map((d, i) => `{"Data":"${d}","PartitionKey":"${randomBytes(6).toString('hex')}${i}"}`);
  return Buffer.from(`{"StreamName":"${stream}","Records":[${records.join(',')}]}`);
}

const dataDir = await mkdtemp(join(tmpdir(), 'riffle-bench-scale-'));
const agent = createKeepAliveAgent(CONNECTIONS);
let collector = await startCollector(dataDir, ['--shard-limits', 'off']);
try {
  let client = new KinesisHttpClient(collector.endpoint, agent);
  const streams = [...Array(STREAMS).keys()].map((i) => `scale-${i}`);
  for (const stream of streams) await createBenchStream(client, stream, SHARDS_PER_STREAM);
  const idleRss = rssMB(collector.child.pid!);

  const payloads = [...Array(64).keys()].map(() => randomBytes(RECORD_BYTES).toString('base64'));
  const rss = sampleRss(collector);
  const started = performance.now();
  let stored = 0;
  let call = 0;
  await Promise.all(
    [...Array(CONNECTIONS).keys()].map(async () => {
      while (stored < TOTAL_RECORDS) {
        const n = call++;
        const body = putRecordsBody(streams[n % STREAMS]!, [...Array(RECORDS_PER_CALL).keys()].map((i) => payloads[(n + i) % payloads.length]!));
        const result = await client.call<{ FailedRecordCount: number }>('PutRecords', body);
        if (result.FailedRecordCount !== 0) throw new Error(`PutRecords failed ${result.FailedRecordCount} records`);
        stored += RECORDS_PER_CALL;
        if (stored % 1_000_000 === 0) process.stdout.write(`  ${(stored / 1e6).toFixed(0)}M records, RSS ${rssMB(collector.child.pid!).toFixed(0)} MB\n`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const load = rss.stop();

  await collector.stop();
  const restartStarted = performance.now();
  collector = await startCollector(dataDir, ['--shard-limits', 'off']);
  const restartMs = performance.now() - restartStarted;
  client = new KinesisHttpClient(collector.endpoint, agent);
  const readRss = sampleRss(collector);
  // Read back every shard of one stream: the counts must add up to what that stream was sent.
  let readRecords = 0;
  const readStarted = performance.now();
  for (let shard = 0; shard < SHARDS_PER_STREAM; shard++) {
    let { ShardIterator: iterator } = await client.call<{ ShardIterator?: string }>('GetShardIterator', {
      StreamName: streams[0],
      ShardId: `shardId-${String(shard).padStart(12, '0')}`,
      ShardIteratorType: 'TRIM_HORIZON',
    });
    while (iterator) {
      const page = await client.call<{ Records: unknown[]; NextShardIterator?: string; MillisBehindLatest: number }>('GetRecords', { ShardIterator: iterator });
      readRecords += page.Records.length;
      if (page.Records.length === 0 && page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  const read = readRss.stop();
  const sentToFirstStream = Math.ceil(call / STREAMS) * RECORDS_PER_CALL;

  console.log(`\n| measure | value |`);
  console.log(`|---|---:|`);
  console.log(`| shards | ${STREAMS * SHARDS_PER_STREAM} |`);
  console.log(`| records stored (${RECORD_BYTES} B each) | ${stored.toLocaleString('en-US')} |`);
  console.log(`| ingest records/s | ${Math.round(stored / seconds).toLocaleString('en-US')} |`);
  console.log(`| collector RSS idle, 1,000 shards | ${idleRss.toFixed(0)} MB |`);
  console.log(`| collector RSS peak during ingest | ${load.peak.toFixed(0)} MB |`);
  console.log(`| collector RSS at end of ingest | ${load.last.toFixed(0)} MB |`);
  console.log(`| restart to listening | ${restartMs.toFixed(0)} ms |`);
  console.log(`| read back ${streams[0]} (100 shards) | ${readRecords.toLocaleString('en-US')} records in ${readSeconds.toFixed(1)} s |`);
  console.log(`| collector RSS peak during read | ${read.peak.toFixed(0)} MB |`);
  console.log(`| target: RSS < 200 MB | ${Math.max(load.peak, read.peak) < 200 ? 'pass' : 'FAIL'} |`);
  if (readRecords < sentToFirstStream - CONNECTIONS * RECORDS_PER_CALL || readRecords > sentToFirstStream) {
    throw new Error(`read back ${readRecords} records from ${streams[0]}, expected about ${sentToFirstStream}`);
  }
} finally {
  await collector.stop();
  agent.destroy();
  await rm(dataDir, { recursive: true, force: true });
}
