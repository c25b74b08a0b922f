/**
 * The PutRecords load generator, run as its own process (`fork`ed by ingest.ts) so that the
 * client's JSON and socket work never shares an event loop with the target it measures.
 *
 * Closed loop: `connections` workers each keep exactly one PutRecords call in flight on a
 * keep-alive agent with as many sockets. Bodies are built before the clock starts (a pool of
 * distinct random payloads, cycled), so the client spends its CPU on sending and parsing answers,
 * not on generating data — the target gets as much of the 2-core machine as the client can spare.
 *
 * Protocol with the parent (IPC): the plan arrives as JSON in argv[2]; the child sends
 * `{ type: 'measuring' }` when the warm-up ends, `{ type: 'measured' }` when the last measured
 * call has answered, then `{ type: 'result', result }`. The parent samples the target's CPU time
 * at the first two.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { encode as encodeCbor } from 'cbor2';
import { createKeepAliveAgent, KinesisCallError, KinesisHttpClient, type BenchProtocol } from './kinesis-http-client.js';
import { addToTally, mergeTallies, type ShardTallies } from './shard-tally.js';

export interface PutLoadPlan {
  endpoint: string;
  streamName: string;
  connections: number;
  recordsPerCall: number;
  recordBytes: number;
  /** The body's wire protocol: JSON 1.1 with base64 Data, or CBOR 1.1 with Data as byte strings. */
  protocol: BenchProtocol;
  warmupMs: number;
  /** Measure for this long after the warm-up … */
  durationMs?: number;
  /** … or for exactly this many calls after the warm-up. */
  measuredCalls?: number;
}

export interface PutLoadResult {
  measured: {
    calls: number;
    records: number;
    dataBytes: number;
    elapsedMs: number;
    /** Per measured call, from the request's start to its parsed answer. */
    latenciesMs: number[];
    clientCpuMs: number;
  };
  /** Warm-up and measured calls together: everything the target acknowledged. */
  acknowledged: ShardTallies;
  failedRecords: number;
  callErrors: Record<string, number>;
}

/** Two loads against the same target (rounds of one run) as if they were one. */
export function mergePutLoads(a: PutLoadResult, b: PutLoadResult): PutLoadResult {
  const callErrors = { ...a.callErrors };
  for (const [type, count] of Object.entries(b.callErrors)) callErrors[type] = (callErrors[type] ?? 0) + count;
  return {
    measured: {
      calls: a.measured.calls + b.measured.calls,
      records: a.measured.records + b.measured.records,
      dataBytes: a.measured.dataBytes + b.measured.dataBytes,
      elapsedMs: a.measured.elapsedMs + b.measured.elapsedMs,
      latenciesMs: [...a.measured.latenciesMs, ...b.measured.latenciesMs],
      clientCpuMs: a.measured.clientCpuMs + b.measured.clientCpuMs,
    },
    acknowledged: mergeTallies(a.acknowledged, b.acknowledged),
    failedRecords: a.failedRecords + b.failedRecords,
    callErrors,
  };
}

export type PutLoadMessage = { type: 'measuring' } | { type: 'measured' } | { type: 'result'; result: PutLoadResult };

/** Payloads repeat only after this many calls (32 MiB of 1 KB records), past any compressor window. */
const BODY_POOL_SIZE = 64;

interface PreparedBody {
  body: Buffer;
  /** CRC-32 of each record's base64 Data (as the read-back sees it), in request order, to tally what the answer acknowledges. */
  dataCrcs: Uint32Array;
}

function buildPutRecordsBody(streamName: string, recordsPerCall: number, recordBytes: number, protocol: BenchProtocol): PreparedBody {
  const data = randomBytes(recordsPerCall * recordBytes);
  const dataCrcs = new Uint32Array(recordsPerCall);
  const records = Array.from({ length: recordsPerCall }, (_, i) => {
    const recordData = data.subarray(i * recordBytes, (i + 1) * recordBytes);
    dataCrcs[i] = crc32(recordData.toString('base64'));
    return { data: recordData, partitionKey: randomBytes(16).toString('hex') };
  });
  if (protocol === 'cbor') {
    // What the Riffle agent sends: Data as byte strings (cbor2 writes a Buffer as its toJSON() map, so plain Uint8Arrays).
    const input = { StreamName: streamName, Records: records.map((r) => ({ Data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.length), PartitionKey: r.partitionKey })) };
    return { body: Buffer.from(encodeCbor(input)), dataCrcs };
  }
  const parts = [`{"StreamName":${JSON.stringify(streamName)},"Records":[`];
  records.forEach((r, i) => parts.push(`${i === 0 ? '' : ','}{"Data":"${r.data.toString('base64')}","PartitionKey":"${r.partitionKey}"}`));
  parts.push(']}');
  return { body: Buffer.from(parts.join('')), dataCrcs };
}

interface PutRecordsOutput {
  FailedRecordCount: number;
  Records: Array<{ SequenceNumber?: string; ShardId?: string; ErrorCode?: string }>;
}

export async function runPutLoad(plan: PutLoadPlan, report: (message: PutLoadMessage) => void): Promise<PutLoadResult> {
  if ((plan.durationMs === undefined) === (plan.measuredCalls === undefined)) throw new Error('a put load needs exactly one of durationMs and measuredCalls');
  const bodies = Array.from({ length: BODY_POOL_SIZE }, () => buildPutRecordsBody(plan.streamName, plan.recordsPerCall, plan.recordBytes, plan.protocol));
  const client = new KinesisHttpClient(plan.endpoint, createKeepAliveAgent(plan.connections), plan.protocol);

  const acknowledged: ShardTallies = {};
  const callErrors: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let failedRecords = 0;
  let measuredRecords = 0;
  let callsIssued = 0;
  let measuredCallsIssued = 0;
  let measuring = false;
  let stopIssuing = false;
  let measureStartMs = 0;
  let lastMeasuredAnswerMs = 0;
  let cpuAtMeasureStart = process.cpuUsage();

  const startMeasuring = () => {
    measuring = true;
    measureStartMs = performance.now();
    cpuAtMeasureStart = process.cpuUsage();
    report({ type: 'measuring' });
    if (plan.durationMs !== undefined) setTimeout(() => (stopIssuing = true), plan.durationMs);
  };
  setTimeout(startMeasuring, plan.warmupMs);

  const worker = async () => {
    while (!stopIssuing) {
      const measured = measuring;
      if (measured && plan.measuredCalls !== undefined && ++measuredCallsIssued > plan.measuredCalls) {
        stopIssuing = true;
        break;
      }
      const prepared = bodies[callsIssued++ % bodies.length]!;
      const startedMs = performance.now();
      let output: PutRecordsOutput;
      try {
        output = await client.call<PutRecordsOutput>('PutRecords', prepared.body);
      } catch (error) {
        // A refused call is data (a throttle, a validation bug); a broken connection means the target is gone.
        if (!(error instanceof KinesisCallError)) throw error;
        callErrors[error.errorType] = (callErrors[error.errorType] ?? 0) + 1;
        continue;
      }
      const answeredMs = performance.now();
      output.Records.forEach((entry, index) => {
        if (entry.SequenceNumber !== undefined && entry.ShardId !== undefined) {
          addToTally(acknowledged, entry.ShardId, prepared.dataCrcs[index]!, plan.recordBytes);
          if (measured) measuredRecords++;
        } else {
          failedRecords++;
        }
      });
      if (measured) {
        latenciesMs.push(answeredMs - startedMs);
        lastMeasuredAnswerMs = answeredMs;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.connections }, worker));
  const cpu = process.cpuUsage(cpuAtMeasureStart);
  report({ type: 'measured' });

  return {
    measured: {
      calls: latenciesMs.length,
      records: measuredRecords,
      dataBytes: measuredRecords * plan.recordBytes,
      elapsedMs: lastMeasuredAnswerMs - measureStartMs,
      latenciesMs,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
    },
    acknowledged,
    failedRecords,
    callErrors,
  };
}

// Entry point when forked by ingest.ts.
if (process.send !== undefined && process.argv[2] !== undefined) {
  runPutLoad(JSON.parse(process.argv[2]) as PutLoadPlan, (message) => process.send!(message)).then(
    (result) => process.send!({ type: 'result', result } satisfies PutLoadMessage, () => process.disconnect()),
    (error: unknown) => {
      process.stderr.write(`put load failed: ${(error as Error).stack ?? String(error)}\n`);
      // The other workers may still hold calls open; the parent learns of the failure from the exit.
      process.exit(1);
    },
  );
}
