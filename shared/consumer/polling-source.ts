/**
 * GetRecords polling within the Kinesis read quota: at most 5 calls/s per shard ("Each shard can
 * support up to five read transactions per second"), and one call per poll interval once caught up.
 */
import { ConsumerApiError, type ConsumerApi } from './api-client.js';
import { sleepUnlessAborted as sleep } from '../clock.js';
import type { RecordSource, ResumePoint, ShardBatch } from './record-source.js';

/** 5 GetRecords calls per second per shard → at least 200 ms between calls. */
export const MIN_GET_RECORDS_SPACING_MS = 200;

export interface PollingSourceOptions {
  api: ConsumerApi;
  streamName: string;
  shardId: string;
  startPosition: 'TRIM_HORIZON' | 'LATEST';
  pollIntervalMs: number;
  maxRecords: number;
}

export class PollingSource implements RecordSource {
  private iterator: string | undefined;
  private nextCallMs = 0;

  constructor(private readonly options: PollingSourceOptions) {}

  async next(from: ResumePoint | undefined, signal: AbortSignal): Promise<ShardBatch> {
    const { api, streamName, shardId } = this.options;
    await sleep(this.nextCallMs - Date.now(), signal);
    try {
      this.iterator ??=
        from !== undefined
          ? await api.shardIterator(streamName, shardId, from.inclusive ? 'AT_SEQUENCE_NUMBER' : 'AFTER_SEQUENCE_NUMBER', from.sequenceNumber)
          : await api.shardIterator(streamName, shardId, this.options.startPosition);
      const output = await api.getRecords(this.iterator, this.options.maxRecords);
      this.iterator = output.NextShardIterator;
      const caughtUp = output.Records.length === 0 || output.MillisBehindLatest === 0;
      this.nextCallMs = Date.now() + (caughtUp ? this.options.pollIntervalMs : MIN_GET_RECORDS_SPACING_MS);
      return { records: output.Records, shardEnded: output.NextShardIterator === undefined };
    } catch (error) {
      // A new iterator from what was delivered: an expired one, or any failure, starts over cleanly.
      this.iterator = undefined;
      this.nextCallMs = Date.now() + MIN_GET_RECORDS_SPACING_MS;
      if (error instanceof ConsumerApiError && error.code === 'ExpiredIteratorException') return { records: [], shardEnded: false };
      throw error;
    }
  }

  close(): void {}
}
