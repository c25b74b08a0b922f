/**
 * bench:fanout — a 4-shard stream under steady PutRecords load, read at once by 5 enhanced fan-out
 * consumers (SDK v3 SubscribeToShard over HTTP/2, in a child process) and, as the peer, by a
 * GetRecords poller at 1 call/s per shard (the usual polling consumer). Prints put→receive latency
 * p50/p99 for each reader and the total fan-out MB/s.
 *
 * Latency is from just before the PutRecords call (its time is written into the record) to the
 * moment the reader has the record decoded, on one machine's clock (performance.timeOrigin + now).
 * Targets (issue): enhanced fan-out p50 ≤ 10 ms and p99 ≤ 50 ms (AWS documents ~70 ms), all
 * 5 consumers at the full ingest rate.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  CreateStreamCommand,
  DescribeStreamConsumerCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';
import { startCollector } from '../helpers/collector-process.js';
import { kinesisClient, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { ConsumerTally, FanOutPlan } from './fanout-consumers.js';
import { percentile } from './percentile.js';

const SHARDS = 4;
const CONSUMERS = 5;
/** 2,000 records/s of 512 bytes: half of each shard's 1,000 records/s and 1 MiB/s write quota. */
const RECORDS_PER_SECOND = 2_000;
const RECORD_BYTES = 512;
const PUT_INTERVAL_MS = 20;
const WARMUP_MS = 3_000;
const MEASURE_MS = 20_000;
const POLL_INTERVAL_MS = 1_000;
const STREAM = 'fanout-bench';

const epochMs = () => performance.timeOrigin + performance.now();


async function main(): Promise<void> {
  const dir = await makeTempDir('riffle-bench-fanout-');
  const collector = await startCollector(dir.path);
  const client = kinesisClient(collector.endpoint);
  try {
    await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: SHARDS }));
    const summary = await waitForStreamStatus(client, STREAM);
    const shardIds = ((await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? []).map((s) => s.ShardId!);
    const consumerArns: string[] = [];
    for (let i = 1; i <= CONSUMERS; i++) {
      const { Consumer } = await client.send(new RegisterStreamConsumerCommand({ StreamARN: summary.StreamARN!, ConsumerName: `efo-${i}` }));
      consumerArns.push(Consumer!.ConsumerARN!);
    }
    for (const arn of consumerArns) {
      await pollUntil(`consumer ${arn} to be ACTIVE`, async () => (await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }))).ConsumerDescription?.ConsumerStatus === 'ACTIVE', { intervalMs: 50 });
    }

    const consumers = fork(fileURLToPath(new URL('./fanout-consumers.js', import.meta.url)), [JSON.stringify({ endpoint: collector.endpoint, consumerArns, shardIds } satisfies FanOutPlan)]);
    await once(consumers, 'message');

    // The peer: one GetRecords loop per shard at 1 call/s, from LATEST.
    const poller = { records: 0, bytes: 0, latenciesMs: [] as number[] };
    let window = { startMs: Infinity, endMs: Infinity };
    let running = true;
    const pollShard = async (shardId: string) => {
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'LATEST' }))).ShardIterator;
      while (running && iterator) {
        const started = Date.now();
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
        const receivedMs = epochMs();
        for (const record of page.Records ?? []) {
          const data = Buffer.from(record.Data!);
          const sentMs = data.readDoubleBE(0);
          if (sentMs < window.startMs || sentMs >= window.endMs) continue;
          poller.records++;
          poller.bytes += data.length;
          poller.latenciesMs.push(receivedMs - sentMs);
        }
        iterator = page.NextShardIterator;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_INTERVAL_MS - (Date.now() - started))));
      }
    };
    const polling = Promise.all(shardIds.map(pollShard));

    // Steady load: every PUT_INTERVAL_MS one PutRecords of RECORDS_PER_SECOND * interval records.
    const perCall = (RECORDS_PER_SECOND * PUT_INTERVAL_MS) / 1000;
    const padding = randomBytes(RECORD_BYTES);
    let sentRecords = 0;
    let failedRecords = 0;
    let inFlight = 0;
    let skippedCalls = 0;
    const putLatenciesMs: number[] = [];
    const putOnce = async () => {
      if (inFlight >= 8) {
        skippedCalls++;
        return;
      }
      inFlight++;
      const sentMs = epochMs();
      const records = Array.from({ length: perCall }, () => {
        const data = Buffer.from(padding);
        data.writeDoubleBE(sentMs, 0);
        return { PartitionKey: randomBytes(8).toString('hex'), Data: data };
      });
      try {
        const result = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
        if (sentMs >= window.startMs && sentMs < window.endMs) {
          putLatenciesMs.push(epochMs() - sentMs);
          sentRecords += perCall - (result.FailedRecordCount ?? 0);
          failedRecords += result.FailedRecordCount ?? 0;
        }
      } finally {
        inFlight--;
      }
    };
    const producer = setInterval(() => void putOnce(), PUT_INTERVAL_MS);
    const startMs = epochMs() + WARMUP_MS;
    window = { startMs, endMs: startMs + MEASURE_MS };
    consumers.send({ type: 'window', ...window });
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS + MEASURE_MS));
    clearInterval(producer);
    // Let what was sent inside the window arrive (the poller needs up to a second).
    await new Promise((resolve) => setTimeout(resolve, 2 * POLL_INTERVAL_MS + 500));
    running = false;
    consumers.send({ type: 'report' });
    const [report] = (await once(consumers, 'message')) as [{ consumers: ConsumerTally[] }];
    consumers.kill();
    await polling;

    const seconds = MEASURE_MS / 1000;
    const rows = [
      ...report.consumers.map((c, i) => ({ name: `enhanced fan-out efo-${i + 1}`, ...c })),
      { name: 'GetRecords poller, 1 call/s/shard', ...poller },
    ];
    const header = ['reader', 'records', 'rec/s', 'MB/s', 'p50 ms', 'p99 ms', 'max ms'];
    const table = rows.map((row) => {
      const sorted = [...row.latenciesMs].sort((a, b) => a - b);
      return [row.name, String(row.records), (row.records / seconds).toFixed(0), (row.bytes / seconds / 1e6).toFixed(2), percentile(sorted, 0.5).toFixed(1), percentile(sorted, 0.99).toFixed(1), (sorted[sorted.length - 1] ?? NaN).toFixed(1)];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    const putSorted = [...putLatenciesMs].sort((a, b) => a - b);
    const fanOutBytes = report.consumers.reduce((sum, c) => sum + c.bytes, 0);
    const output = [
      `bench:fanout — ${SHARDS} shards, ${RECORDS_PER_SECOND} records/s of ${RECORD_BYTES} B put, ${CONSUMERS} enhanced fan-out consumers (SDK v3, HTTP/2) and a GetRecords poller, ${seconds} s measured`,
      `ingest: ${sentRecords} records stored in the window (${(sentRecords / seconds).toFixed(0)} rec/s), ${failedRecords} refused, ${skippedCalls} put calls skipped (8 in flight)`,
      '',
      line(header),
      line(widths.map((w) => '-'.repeat(w))),
      ...table.map(line),
      '',
      `total enhanced fan-out: ${(fanOutBytes / seconds / 1e6).toFixed(2)} MB/s; every consumer at the ingest rate: ${report.consumers.every((c) => c.records === sentRecords) ? 'yes' : 'NO'}`,
      `of which the PutRecords call itself (durable ack, fsync): p50 ${percentile(putSorted, 0.5).toFixed(1)} ms, p99 ${percentile(putSorted, 0.99).toFixed(1)} ms`,
      'targets: enhanced fan-out p50 ≤ 10 ms, p99 ≤ 50 ms (AWS documents ~70 ms)',
    ];
    process.stdout.write(`${output.join('\n')}\n`);
  } finally {
    client.destroy();
    await collector.stop();
    await dir.remove();
  }
}

await main();
