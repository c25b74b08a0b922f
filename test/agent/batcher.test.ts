import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { Batcher, BatcherError, targetQuotas, type Batch, type BatcherErrorCode, type BatcherOptions } from '../../agent/buffer/batcher.js';
import type { Schedule } from '../../shared/clock.js';
import type { AckTarget, AgentRecord } from '../../agent/record.js';

const MiB = 1024 * 1024;
const KiB = 1024;

/** Timers that fire only when the test moves the clock. */
class ManualTimers {
  private timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];
  constructor(readonly clock: ManualClock) {}

  readonly schedule: Schedule = (delayMillis, callback) => {
    const timer = { at: this.clock.now() + delayMillis, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };

  get armed(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  advance(ms: number): void {
    this.clock.advance(ms);
    for (;;) {
      const due = this.timers.find((timer) => !timer.cancelled && timer.at <= this.clock.now());
      if (!due) return;
      due.cancelled = true;
      due.callback();
    }
  }

  /** Fires every armed timer now, whatever the clock says (a timer that fires early). */
  fireAll(): void {
    const armed = this.timers.filter((timer) => !timer.cancelled);
    for (const timer of armed) {
      timer.cancelled = true;
      timer.callback();
    }
  }
}

function setup(options: Partial<Omit<BatcherOptions, 'onBatch'>> = {}) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const batches: Batch[] = [];
  const batcher = new Batcher({ target: 'kinesis', clock, schedule: timers.schedule, ...options, onBatch: (batch) => batches.push(batch) });
  return { clock, timers, batches, batcher };
}

function ackTarget(): AckTarget {
  return { settle: () => {}, spoolIsSafe: false };
}

function record(dataBytes: number, partitionKey = 'k', acks: AgentRecord['acks'] = []): AgentRecord {
  return { data: Buffer.alloc(dataBytes, 0x61), partitionKey, acks };
}

/** A record whose partition key the flow's partitionKeyOption assigns later. */
function unkeyed(dataBytes: number): AgentRecord {
  return { data: Buffer.alloc(dataBytes, 0x61), acks: [] };
}

function errorCode(action: () => unknown): BatcherErrorCode {
  try {
    action();
  } catch (error) {
    if (error instanceof BatcherError) return error.code;
    throw error;
  }
  throw new Error('expected a BatcherError');
}

describe('quotas', () => {
  it('are the documented Kinesis PutRecords and Firehose PutRecordBatch limits', () => {
    expect(targetQuotas.kinesis).toEqual({ maxRecords: 500, maxBatchBytes: 5 * MiB, maxRecordBytes: MiB, countsPartitionKey: true });
    expect(targetQuotas.firehose).toEqual({ maxRecords: 500, maxBatchBytes: 4 * MiB, maxRecordBytes: 1000 * KiB, countsPartitionKey: false });
  });

  it('refuses settings beyond the target quota', () => {
    expect(errorCode(() => setup({ maxBufferSizeRecords: 501 }))).toBe('INVALID_BATCHER_OPTION');
    expect(errorCode(() => setup({ maxBufferSizeBytes: 5 * MiB + 1 }))).toBe('INVALID_BATCHER_OPTION');
    expect(errorCode(() => setup({ target: 'firehose', maxBufferSizeBytes: 4 * MiB + 1 }))).toBe('INVALID_BATCHER_OPTION');
    expect(errorCode(() => setup({ maxBufferAgeMillis: 0 }))).toBe('INVALID_BATCHER_OPTION');
    expect(() => setup({ target: 'firehose', maxBufferSizeBytes: 4 * MiB, maxBufferSizeRecords: 500 })).not.toThrow();
  });
});

describe('flush on count', () => {
  it('flushes exactly at 500 records by default, not before', () => {
    const { batcher, batches } = setup();
    const quota = targetQuotas.kinesis.maxRecords;
    for (let i = 0; i < quota - 1; i++) batcher.add(record(10));
    expect(batches).toHaveLength(0);
    expect(batcher.bufferedRecords).toBe(quota - 1);
    batcher.add(record(10));
    expect(batches.map((batch) => batch.records.length)).toEqual([quota]);
    expect(batcher.bufferedRecords).toBe(0);
    batcher.add(record(10));
    expect(batches).toHaveLength(1);
    expect(batcher.bufferedRecords).toBe(1);
  });

  it('honours a smaller maxBufferSizeRecords', () => {
    const { batcher, batches } = setup({ maxBufferSizeRecords: 3 });
    for (let i = 0; i < 7; i++) batcher.add(record(1));
    expect(batches.map((batch) => batch.records.length)).toEqual([3, 3]);
  });
});

describe('flush on bytes (Kinesis: data and partition key)', () => {
  it('flushes a batch of exactly 5 MiB when it is full', () => {
    const { batcher, batches } = setup();
    const key = 'key-1';
    const recordBytes = targetQuotas.kinesis.maxRecordBytes; // data + key = 1 MiB, the largest record
    const perBatch = targetQuotas.kinesis.maxBatchBytes / recordBytes;
    for (let i = 0; i < perBatch - 1; i++) batcher.add(record(recordBytes - key.length, key));
    expect(batches).toHaveLength(0);
    batcher.add(record(recordBytes - key.length, key));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.bytes).toBe(targetQuotas.kinesis.maxBatchBytes);
    expect(batches[0]!.records).toHaveLength(perBatch);
  });

  it('flushes before a record that would pass 5 MiB, and the record starts the next batch', () => {
    const { batcher, batches } = setup();
    const quota = targetQuotas.kinesis.maxBatchBytes;
    const big = targetQuotas.kinesis.maxRecordBytes - 1; // one byte short of the largest, key included
    for (let i = 0; i < 5; i++) batcher.add(record(big - 1, 'k'));
    expect(batcher.bufferedBytes).toBe(quota - 5);
    batcher.add(record(5, 'k')); // 6 bytes: one too many
    expect(batches).toHaveLength(1);
    expect(batches[0]!.bytes).toBe(quota - 5);
    expect(batcher.bufferedBytes).toBe(6);
  });

  it('counts the partition key in UTF-8 bytes', () => {
    const { batcher } = setup();
    batcher.add(record(10, 'ключ')); // 4 Cyrillic letters, 8 bytes
    expect(batcher.bufferedBytes).toBe(18);
  });

  it('reserves the longest generated key for a record whose key is assigned later', () => {
    const { batcher } = setup();
    batcher.add(unkeyed(10));
    expect(batcher.bufferedBytes).toBe(10 + 256);
  });

  it('lets a record larger than maxBufferSizeBytes (but within the quota) travel alone', () => {
    const { batcher, batches } = setup({ maxBufferSizeBytes: 1000 });
    batcher.add(record(99)); // 100 bytes
    batcher.add(record(4999)); // 5000 bytes
    batcher.add(record(99));
    expect(batches.map((batch) => batch.bytes)).toEqual([100, 5000]);
    expect(batcher.bufferedBytes).toBe(100);
  });
});

describe('record limit', () => {
  it('Kinesis: 1 MiB of data and key passes, one byte more is RECORD_TOO_LARGE', () => {
    const { batcher, batches } = setup();
    const limit = targetQuotas.kinesis.maxRecordBytes;
    expect(errorCode(() => batcher.add(record(limit - 1, 'ab')))).toBe('RECORD_TOO_LARGE');
    expect(errorCode(() => batcher.add(unkeyed(limit - 256 + 1)))).toBe('RECORD_TOO_LARGE');
    expect(batcher.bufferedRecords).toBe(0);
    batcher.add(record(limit - 2, 'ab'));
    batcher.add(unkeyed(limit - 256));
    expect(batches).toHaveLength(0);
    expect(batcher.bufferedRecords).toBe(2);
  });

  it('Firehose: 1,000 KiB of data passes whatever the key, one byte more is RECORD_TOO_LARGE', () => {
    const { batcher } = setup({ target: 'firehose' });
    const limit = targetQuotas.firehose.maxRecordBytes;
    batcher.add(record(limit, 'a long key that Firehose ignores'));
    expect(batcher.bufferedBytes).toBe(limit);
    expect(errorCode(() => batcher.add(unkeyed(limit + 1)))).toBe('RECORD_TOO_LARGE');
  });
});

describe('Firehose batches', () => {
  it('hold at most 4 MiB, counting data only', () => {
    const { batcher, batches } = setup({ target: 'firehose' });
    const recordBytes = targetQuotas.firehose.maxRecordBytes;
    const fit = Math.floor(targetQuotas.firehose.maxBatchBytes / recordBytes);
    for (let i = 0; i <= fit; i++) batcher.add(record(recordBytes, 'key'));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.records).toHaveLength(fit);
    expect(batches[0]!.bytes).toBe(fit * recordBytes);
    expect(batcher.bufferedBytes).toBe(recordBytes);
  });

  it('flush at exactly 4 MiB', () => {
    const { batcher, batches } = setup({ target: 'firehose' });
    const quota = targetQuotas.firehose.maxBatchBytes;
    const recordBytes = quota / 8;
    for (let i = 0; i < 8; i++) batcher.add(record(recordBytes));
    expect(batches.map((batch) => batch.bytes)).toEqual([quota]);
  });

  it('flush at 500 records', () => {
    const { batcher, batches } = setup({ target: 'firehose' });
    for (let i = 0; i < 1000; i++) batcher.add(record(100));
    expect(batches.map((batch) => batch.records.length)).toEqual([500, 500]);
  });
});

describe('flush on age', () => {
  it('flushes when the oldest record is maxBufferAgeMillis old, timed from the first record', () => {
    const { batcher, batches, timers } = setup({ maxBufferAgeMillis: 1000 });
    batcher.add(record(1));
    timers.advance(600);
    batcher.add(record(1));
    timers.advance(399);
    expect(batches).toHaveLength(0);
    timers.advance(1);
    expect(batches.map((batch) => batch.records.length)).toEqual([2]);
    expect(timers.armed).toBe(0);
  });

  it('defaults to the Kinesis Agent 60 s', () => {
    const { batcher, batches, timers } = setup();
    batcher.add(record(1));
    timers.advance(59_999);
    expect(batches).toHaveLength(0);
    timers.advance(1);
    expect(batches).toHaveLength(1);
  });

  it('arms no timer while empty, and cancels it when the batch leaves for another reason', () => {
    const { batcher, timers } = setup({ maxBufferSizeRecords: 2 });
    expect(timers.armed).toBe(0);
    batcher.add(record(1));
    expect(timers.armed).toBe(1);
    batcher.add(record(1));
    expect(timers.armed).toBe(0);
  });

  it('waits out the rest when the timer fires before the clock agrees', () => {
    const { batcher, batches, timers } = setup({ maxBufferAgeMillis: 1000 });
    batcher.add(record(1));
    timers.clock.advance(990);
    timers.fireAll();
    expect(batches).toHaveLength(0);
    expect(timers.armed).toBe(1);
    timers.advance(10);
    expect(batches).toHaveLength(1);
  });

  it('flushDue(now) flushes only a batch that is due', () => {
    const { batcher, batches, clock } = setup({ maxBufferAgeMillis: 1000 });
    expect(batcher.flushDue()).toBe(false);
    batcher.add(record(1));
    expect(batcher.flushDue(clock.now() + 999)).toBe(false);
    expect(batcher.flushDue(clock.now() + 1000)).toBe(true);
    expect(batches).toHaveLength(1);
  });

  it('flush() hands on a partial batch at once and does nothing when empty', () => {
    const { batcher, batches, timers } = setup();
    batcher.flush();
    expect(batches).toHaveLength(0);
    batcher.add(record(1));
    batcher.flush();
    expect(batches).toHaveLength(1);
    expect(timers.armed).toBe(0);
  });
});

describe('acknowledgements', () => {
  it('merges contiguous ranges of one target, keeps others apart, in order', () => {
    const { batcher, batches } = setup({ maxBufferSizeRecords: 8 });
    const fileA = ackTarget();
    const fileB = ackTarget();
    const ranges: Array<[AckTarget, number, number]> = [
      [fileA, 0, 0],
      [fileA, 1, 1],
      [fileA, 2, 4],
      [fileB, 0, 0],
      [fileA, 5, 5],
      [fileA, 7, 7], // a gap: 6 is elsewhere
      [fileA, 8, 8],
    ];
    for (const [target, from, to] of ranges) batcher.add(record(1, 'k', [{ target, from, to }]));
    batcher.add(record(1, 'k', [])); // no source acknowledgement
    expect(batches).toHaveLength(1);
    expect(batches[0]!.acks).toEqual([
      { target: fileA, from: 0, to: 4 },
      { target: fileB, from: 0, to: 0 },
      { target: fileA, from: 5, to: 5 },
      { target: fileA, from: 7, to: 8 },
    ]);
    // the batch holds its records' data and keys packed, without their own acks: only the merged ranges stay alive
    expect(batches[0]!.records.toArray()).toEqual(Array.from({ length: ranges.length + 1 }, () => ({ data: Buffer.alloc(1, 0x61), partitionKey: 'k' })));
  });

  it('start afresh with each batch', () => {
    const { batcher, batches } = setup({ maxBufferSizeRecords: 2 });
    const file = ackTarget();
    for (let seq = 0; seq < 4; seq++) batcher.add(record(1, 'k', [{ target: file, from: seq, to: seq }]));
    expect(batches.map((batch) => batch.acks.map((a) => [a.from, a.to]))).toEqual([[[0, 1]], [[2, 3]]]);
  });
});
