/**
 * bench:storage — why records live in a segment log per shard and not in level.
 *
 * Same load for both: 4 concurrent writers, each appending batches of 500 × 1 KiB records and
 * waiting for durability (level: `batch(..., { sync: true })`; ShardLog: O_DSYNC writes), then a full
 * sequential read back. Also reports bytes on disk per byte of data (write amplification shows
 * up as more disk than data, and later as compaction work).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { ShardLog } from '../../collector/store/shard-log.js';

const WRITERS = 4;
const BATCH = 500;
const RECORD_BYTES = 1024;
const BATCHES_PER_WRITER = Number(process.env.BENCH_BATCHES ?? 100);

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}

interface Result {
  name: string;
  writeRecordsPerSec: number;
  writeMBps: number;
  readMBps: number;
  diskPerDataByte: number;
}

// Distinct random records: level compresses blocks (snappy), so repeated data would flatter it.
const payloads = [...Array(997).keys()].map(() => randomBytes(RECORD_BYTES));
const payload = (i: number) => payloads[i % payloads.length]!;
const totalRecords = WRITERS * BATCH * BATCHES_PER_WRITER;
const dataBytes = totalRecords * RECORD_BYTES;

async function benchLevel(dir: string): Promise<Result> {
  const db = new Level<string, Buffer>(join(dir, 'level'), { valueEncoding: 'buffer' });
  await db.open();
  let sequence = 0;
  const started = performance.now();
  await Promise.all(
    [...Array(WRITERS).keys()].map(async (shard) => {
      for (let b = 0; b < BATCHES_PER_WRITER; b++) {
        const ops = [];
        for (let i = 0; i < BATCH; i++) ops.push({ type: 'put' as const, key: `${shard}!${String(sequence).padStart(20, '0')}`, value: payload(sequence++) });
        await db.batch(ops, { sync: true });
      }
    }),
  );
  const writeSeconds = (performance.now() - started) / 1000;
  const readStarted = performance.now();
  let readBytes = 0;
  for (let shard = 0; shard < WRITERS; shard++) {
    for await (const value of db.values({ gt: `${shard}!`, lt: `${shard}"` })) readBytes += value.length;
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  await db.close();
  if (readBytes !== dataBytes) throw new Error(`level read back ${readBytes} bytes, wrote ${dataBytes}`);
  return { name: 'level (sync batch)', writeRecordsPerSec: totalRecords / writeSeconds, writeMBps: dataBytes / 1e6 / writeSeconds, readMBps: dataBytes / 1e6 / readSeconds, diskPerDataByte: (await directoryBytes(join(dir, 'level'))) / dataBytes };
}

async function benchShardLog(dir: string): Promise<Result> {
  const logs = await Promise.all([...Array(WRITERS).keys()].map((shard) => ShardLog.open(join(dir, 'log', String(shard)), { segmentMaxBytes: 64 << 20, segmentMaxAgeMs: 3_600_000, now: Date.now })));
  const started = performance.now();
  await Promise.all(
    logs.map(async (log) => {
      for (let b = 0; b < BATCHES_PER_WRITER; b++) {
        const entries = [];
        for (let i = 0; i < BATCH; i++) entries.push({ partitionKey: 'k', data: payload(b * BATCH + i) });
        await log.append(entries, false);
      }
    }),
  );
  const writeSeconds = (performance.now() - started) / 1000;
  const readStarted = performance.now();
  let readBytes = 0;
  for (const log of logs) {
    for (let ordinal = 0; ordinal < log.committedOrdinal; ) {
      const records = await log.read(ordinal, 10_000, 10 << 20);
      for (const r of records) readBytes += r.data.length;
      ordinal = records[records.length - 1]!.ordinal + 1;
    }
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  for (const log of logs) await log.close();
  if (readBytes !== dataBytes) throw new Error(`shard log read back ${readBytes} bytes, wrote ${dataBytes}`);
  return { name: 'segment log (O_DSYNC)', writeRecordsPerSec: totalRecords / writeSeconds, writeMBps: dataBytes / 1e6 / writeSeconds, readMBps: dataBytes / 1e6 / readSeconds, diskPerDataByte: (await directoryBytes(join(dir, 'log'))) / dataBytes };
}

const dir = await mkdtemp(join(tmpdir(), 'riffle-bench-storage-'));
try {
  console.log(`${WRITERS} writers × ${BATCHES_PER_WRITER} batches × ${BATCH} records × ${RECORD_BYTES} B = ${(dataBytes / 1e6).toFixed(0)} MB, durable per batch\n`);
  const results = [await benchLevel(dir), await benchShardLog(dir)];
  console.log('| store | write records/s | write MB/s | read MB/s | disk bytes / data byte |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.name} | ${Math.round(r.writeRecordsPerSec).toLocaleString('en-US')} | ${r.writeMBps.toFixed(1)} | ${r.readMBps.toFixed(1)} | ${r.diskPerDataByte.toFixed(2)} |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
