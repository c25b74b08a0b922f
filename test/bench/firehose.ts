/**
 * `npm run bench:firehose` — Firehose delivery against Riffle's own ingest, in one run on one
 * collector process:
 *
 * 1. Kinesis PutRecords ingest (the peer figure): `connections` closed-loop callers, each with one
 *    PutRecords of 500 × ~1 KB JSON records in flight, into a 4-shard stream, for `duration-s`.
 * 2. Firehose, saturated: the same callers with PutRecordBatch (500 × ~1 KB JSON) into a
 *    DirectPut delivery stream with a GZIP ExtendedS3 destination on local disk and 0 s
 *    buffering (SizeInMBs 5, the AWS default). Every record carries its send time; once the puts
 *    stop, the bench waits until every accepted record is in an object, then reads the objects
 *    back (gunzip, count, check) and takes each record's put→object latency as object mtime −
 *    send time. Under a closed loop that puts faster than one stream delivers, this latency is
 *    mostly queueing.
 * 3. Firehose, paced: one caller, one batch every 100 ms (~5 MB/s), for half the duration — the
 *    put→object latency of a stream that keeps up, which the ≤ 1 s goal is about.
 *
 * "Delivered MB/s" is record bytes delivered over the time from the first put to the last object;
 * it is compared with the PutRecords ingest rate (goal ≥ 0.7×), and the p99 put→object latency
 * with the goal of ≤ 1 s. MB = 10^6 bytes of record data. The client runs in this process, on the
 * same cores as the collector: absolute numbers are what the machine does with the client on it.
 *
 * Options: --duration-s N (BENCH_DURATION_S, default 10) · --connections N (BENCH_CONNECTIONS,
 * default 4). Exits 1 when an accepted record is missing or altered.
 */
import { PutRecordBatchCommand, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { startCollector } from '../helpers/collector-process.js';
import { firehoseClient, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { kinesisClient, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { percentile } from './percentile.js';

const RECORDS_PER_CALL = 500;
const RECORD_BYTES = 1024;
const P99_GOAL_MS = 1000;
const DELIVERY_RATIO_GOAL = 0.7;
// The paced phase: one PutRecordBatch of 500 records every 100 ms (~5 MB/s).
const PACED_INTERVAL_MS = 100;

const { values } = parseArgs({ options: { 'duration-s': { type: 'string' }, connections: { type: 'string' } } });
const durationMs = Number(values['duration-s'] ?? process.env.BENCH_DURATION_S ?? 10) * 1000;
const connections = Number(values.connections ?? process.env.BENCH_CONNECTIONS ?? 4);

/** A ~1 KB JSON record that carries its sequence and send time. */
function record(seq: number, sentMs: number): Buffer {
  const head = `{"seq":${seq},"t":${sentMs},"pad":"`;
  return Buffer.from(`${head}${'x'.repeat(RECORD_BYTES - head.length - 3)}"}\n`);
}

async function closedLoop(send: (seq: number) => Promise<number>): Promise<{ records: number; bytes: number; elapsedMs: number }> {
  let seq = 0;
  let records = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const first = seq;
        seq += RECORDS_PER_CALL;
        const sent = await send(first);
        records += sent;
      }
    }),
  );
  return { records, bytes: records * RECORD_BYTES, elapsedMs: performance.now() - started };
}


async function main(): Promise<void> {
  const dir = await makeTempDir('riffle-bench-firehose-');
  const collector = await startCollector(dir.path, ['--shard-limits', 'off']);
  const kinesis = kinesisClient(collector.endpoint);
  const firehose = firehoseClient(collector.endpoint);
  let exitCode = 0;
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: 4 }));
    await waitForStreamStatus(kinesis, 'bench');
    for (const name of ['bench', 'paced']) {
      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: name,
          ExtendedS3DestinationConfiguration: {
            BucketARN: `arn:aws:s3:::${name}`,
            RoleARN: 'arn:aws:iam::000000000000:role/bench',
            CompressionFormat: 'GZIP',
            // 0 s: deliver as soon as records are there; 5 MiB (AWS's default) caps an object under load.
            BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 0 },
          },
        }),
      );
      await waitForDeliveryStreamStatus(firehose, name);
    }

    const ingest = await closedLoop(async (first) => {
      const now = Date.now();
      const result = await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'bench',
          Records: Array.from({ length: RECORDS_PER_CALL }, (_, i) => ({ PartitionKey: `k${(first + i) % 997}`, Data: record(first + i, now) })),
        }),
      );
      return RECORDS_PER_CALL - (result.FailedRecordCount ?? 0);
    });

    const putBatch = async (name: string, first: number, accepted: Set<number>): Promise<number> => {
      const now = Date.now();
      const result = await firehose.send(
        new PutRecordBatchCommand({ DeliveryStreamName: name, Records: Array.from({ length: RECORDS_PER_CALL }, (_, i) => ({ Data: record(first + i, now) })) }),
      );
      let count = 0;
      result.RequestResponses!.forEach((entry, i) => {
        if (entry.RecordId) {
          accepted.add(first + i);
          count++;
        }
      });
      return count;
    };

    // Saturation: the same closed loop as the ingest phase.
    const accepted = new Set<number>();
    const putStarted = Date.now();
    const put = await closedLoop((first) => putBatch('bench', first, accepted));
    const saturated = await collectDelivered(join(dir.path, 's3', 'bench'), accepted);

    // Paced: one caller, one batch every PACED_INTERVAL_MS — latency below saturation.
    const pacedAccepted = new Set<number>();
    const pacedUntil = performance.now() + durationMs / 2;
    for (let first = 0; performance.now() < pacedUntil; first += RECORDS_PER_CALL) {
      const next = performance.now() + PACED_INTERVAL_MS;
      await putBatch('paced', first, pacedAccepted);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
    const paced = await collectDelivered(join(dir.path, 's3', 'paced'), pacedAccepted);

    const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
    const ingestMBps = mbps(ingest.bytes, ingest.elapsedMs);
    const deliveredMBps = mbps(saturated.delivered * RECORD_BYTES, saturated.lastObjectMs - putStarted);
    const latency = (stats: Delivered) => `${percentile(stats.latencies, 0.5).toFixed(0)} / ${percentile(stats.latencies, 0.99).toFixed(0)} / ${(stats.latencies[stats.latencies.length - 1] ?? NaN).toFixed(0)} ms`;
    const pacedRate = (RECORDS_PER_CALL * RECORD_BYTES) / 1e6 / (PACED_INTERVAL_MS / 1000);
    const rows: Array<[string, string]> = [
      ['Kinesis PutRecords ingest', `${ingestMBps.toFixed(1)} MB/s (${Math.round(ingest.records / (ingest.elapsedMs / 1000))} records/s)`],
      ['Firehose PutRecordBatch accepted', `${mbps(put.bytes, put.elapsedMs).toFixed(1)} MB/s (${Math.round(put.records / (put.elapsedMs / 1000))} records/s)`],
      ['Firehose delivered (GZIP on disk)', `${deliveredMBps.toFixed(1)} MB/s = ${(deliveredMBps / ingestMBps).toFixed(2)}× ingest`],
      ['put→object p50 / p99 / max, saturated', latency(saturated)],
      [`put→object p50 / p99 / max, paced ${pacedRate.toFixed(1)} MB/s`, latency(paced)],
      ['objects, GZIP ratio (saturated)', `${saturated.objects} objects, ${((saturated.delivered * RECORD_BYTES) / Math.max(1, saturated.objectBytes)).toFixed(1)}:1`],
      ['records accepted / delivered / missing', `${accepted.size + pacedAccepted.size} / ${saturated.delivered + paced.delivered} / ${saturated.missing + paced.missing}`],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log(`\nbench:firehose — ${connections} callers × ${RECORDS_PER_CALL} × ${RECORD_BYTES} B JSON, ${durationMs / 1000} s per phase, 0 s buffering\n`);
    console.log(`| ${'measure'.padEnd(width)} | value |`);
    console.log(`| ${'-'.repeat(width)} | ----- |`);
    for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${value} |`);
    console.log('');
    console.log(`${deliveredMBps >= DELIVERY_RATIO_GOAL * ingestMBps ? 'PASS' : 'FAIL'} delivery ≥ ${DELIVERY_RATIO_GOAL}× ingest`);
    console.log(`${percentile(paced.latencies, 0.99) <= P99_GOAL_MS ? 'PASS' : 'FAIL'} p99 put→object ≤ ${P99_GOAL_MS} ms (paced)`);
    const missing = saturated.missing + paced.missing;
    const corrupt = saturated.corrupt + paced.corrupt;
    if (missing > 0 || corrupt > 0) {
      console.log(`FAIL ${missing} accepted records never delivered, ${corrupt} corrupt lines`);
      exitCode = 1;
    }
  } finally {
    kinesis.destroy();
    firehose.destroy();
    await collector.stop();
    await dir.remove();
  }
  process.exit(exitCode);
}

interface Delivered {
  delivered: number;
  missing: number;
  corrupt: number;
  objects: number;
  objectBytes: number;
  lastObjectMs: number;
  /** Per record, object mtime − send time, sorted. */
  latencies: number[];
}

/** Waits (bounded) until every accepted record is in an object of the bucket, reading each object once. */
async function collectDelivered(bucketDir: string, accepted: ReadonlySet<number>): Promise<Delivered> {
  const latencies: number[] = [];
  const seen = new Set<number>();
  const read = new Set<string>();
  let lastObjectMs = 0;
  let objectBytes = 0;
  let corrupt = 0;
  const waitDeadline = Date.now() + 120_000;
  while (seen.size < accepted.size && Date.now() < waitDeadline) {
    for (const path of await listFiles(bucketDir)) {
      if (read.has(path)) continue;
      read.add(path);
      const [body, stat] = await Promise.all([fsp.readFile(path), fsp.stat(path)]);
      objectBytes += body.length;
      lastObjectMs = Math.max(lastObjectMs, stat.mtimeMs);
      for (const line of gunzipSync(body).toString().split('\n')) {
        if (!line) continue;
        try {
          const { seq, t } = JSON.parse(line) as { seq: number; t: number };
          seen.add(seq);
          latencies.push(stat.mtimeMs - t);
        } catch {
          corrupt++;
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  latencies.sort((a, b) => a - b);
  const missing = [...accepted].filter((seq) => !seen.has(seq)).length;
  return { delivered: seen.size, missing, corrupt, objects: read.size, objectBytes, lastObjectMs, latencies };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => join(entry.parentPath, entry.name));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
