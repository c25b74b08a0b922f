/**
 * When the agent's records have all arrived: the collector's `IncomingRecords` counter for the
 * stream (GET /metrics, Prometheus text), which it bumps as it stores a PutRecords call, just
 * before the agent gets its answer. The agent's own status file is written only every 5 s, too
 * coarse to time a run of seconds; it is checked afterwards.
 */
import { performance } from 'node:perf_hooks';
import { readMetric } from '../helpers/metrics.js';

/** A collector making no progress for this long means the run is stuck, not slow. */
const STALL_MS = 30_000;
/** Timing resolution of a phase: a 20 s phase is timed to within 0.25 %. */
const POLL_MS = 50;

export function incomingRecords(endpoint: string, streamName: string): Promise<number> {
  return streamMetric(endpoint, streamName, 'IncomingRecords');
}

/** One of the collector's per-stream counters (collector/metrics.ts); 0 before it first counts. */
export function streamMetric(endpoint: string, streamName: string, name: 'IncomingRecords' | 'PutRecords.Success'): Promise<number> {
  // Prometheus names cannot hold '.': the collector writes '_' (collector/metrics.ts).
  return readMetric(endpoint, `kinesis_${name.replace('.', '_')}{StreamName="${streamName}"}`);
}

export interface Arrival {
  /** `performance.now()` when the count was first seen at or past the goal, or at the deadline. */
  atMs: number;
  records: number;
  /** Whether all `count` records arrived before the deadline. */
  complete: boolean;
  /** Set when nothing arrived for STALL_MS: what the agent was doing then. */
  stalled?: string;
}

export interface ArrivalWatch {
  /** `performance.now()` time at which to stop waiting and report what arrived. */
  deadlineMs: number;
  /** What the agent was doing, for a stall report. */
  describeStall(): string;
  /** Called on every poll, e.g. to sample the agent's memory. */
  onPoll(): void;
}

/**
 * Resolves once the stream has taken at least `count` records, or at the deadline with what it
 * holds then: a slow agent is measured, not waited for. When nothing moved for STALL_MS it
 * resolves early, with `describeStall()`'s account.
 */
export async function waitForIncomingRecords(endpoint: string, streamName: string, count: number, watch: ArrivalWatch): Promise<Arrival> {
  let last = -1;
  let lastMoveMs = performance.now();
  for (;;) {
    watch.onPoll();
    const records = await incomingRecords(endpoint, streamName);
    const nowMs = performance.now();
    if (records >= count || nowMs >= watch.deadlineMs) return { atMs: nowMs, records, complete: records >= count };
    if (records !== last) {
      last = records;
      lastMoveMs = nowMs;
    } else if (nowMs - lastMoveMs > STALL_MS) {
      return { atMs: nowMs, records, complete: false, stalled: `the stream ${streamName} held ${records} of ${count} records for ${STALL_MS / 1000} s; ${watch.describeStall()}` };
    }
    // The collector has no way to push its counters; polling is what /metrics offers.
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
