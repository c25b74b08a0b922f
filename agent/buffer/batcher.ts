/**
 * The batcher: collects one flow's records into batches that one PutRecords (Kinesis) or
 * PutRecordBatch (Firehose) call may carry, and hands each batch on when the first of the
 * Kinesis Agent's three flush conditions is met:
 *  - `maxBufferAgeMillis`: the oldest record has waited this long;
 *  - `maxBufferSizeBytes`: one more record would not fit, or the batch is exactly full;
 *  - `maxBufferSizeRecords`: the batch holds this many records.
 *
 * Bytes are counted as the target counts them against its quotas: Kinesis counts the data and
 * the partition key, Firehose only the data. A batch never exceeds the target's quotas, whatever
 * the settings. A single record over the target's per-record limit is refused with
 * `RECORD_TOO_LARGE`: sources cut records to the limit (the tail source's
 * `truncatedRecordTerminator`), so such a record is a bug upstream, and splitting it here would
 * store bytes the source never produced.
 */
import { systemClock, systemSchedule, type Clock, type Schedule } from '../../shared/clock.js';
import { addAck, type Ack, type AgentRecord } from '../record.js';
import { RecordPacker, type PackedRecords } from './packed-records.js';
import { utf8Length } from '../../shared/buffer-writer.js';
import { firehoseSink } from '../sinks/firehose.js';
import { kinesisSink } from '../sinks/kinesis.js';

export interface TargetQuota {
  /** Records per call. */
  maxRecords: number;
  /** Bytes per call. */
  maxBatchBytes: number;
  /** Bytes per record. */
  maxRecordBytes: number;
  /** Whether the partition key counts towards the byte quotas (Kinesis: yes; Firehose has none). */
  countsPartitionKey: boolean;
}

export type TargetKind = 'kinesis' | 'firehose';

/** The sinks' call quotas (cited there); Kinesis counts the partition key, Firehose has none. */
export const targetQuotas: Readonly<Record<TargetKind, Readonly<TargetQuota>>> = {
  kinesis: { ...kinesisSink.limits, countsPartitionKey: true },
  firehose: { ...firehoseSink.limits, countsPartitionKey: false },
};

// Kinesis Agent default (amazon-kinesis-agent Constants.DEFAULT_MAX_BUFFER_AGE_MILLIS).
export const DEFAULT_MAX_BUFFER_AGE_MILLIS = 60_000;
/**
 * PartitionKey: 1 to 256 Unicode characters — Kinesis API reference. A record without a key gets
 * one from the flow's `partitionKeyOption` after batching; the keys the agent generates are
 * ASCII, so 256 bytes covers any of them.
 */
export const MAX_GENERATED_PARTITION_KEY_BYTES = 256;


export interface Batch {
  /**
   * The records' data and keys, packed (see packed-records.ts); their acks are in `acks`, merged.
   * So a batch waiting to be sent holds a few objects, not a few per record.
   */
  records: PackedRecords;
  /** The batch's size as the target counts it (see `recordBytes`). */
  bytes: number;
  /** Every record's acknowledgements, in order, contiguous ranges of one target merged. */
  acks: Ack[];
}

export type BatcherErrorCode =
  /** One record is over the target's per-record quota; the source should have cut it. */
  | 'RECORD_TOO_LARGE'
  /** A setting is outside what the target allows (see BatcherOptions). */
  | 'INVALID_BATCHER_OPTION';

export class BatcherError extends Error {
  constructor(
    readonly code: BatcherErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BatcherError';
  }
}

export interface BatcherOptions {
  /** `kinesisStream` flows send to `kinesis`, `deliveryStream` flows to `firehose`. */
  target: TargetKind;
  /** Longest a record waits for its batch to fill, in ms. Default 60000 (the Kinesis Agent's). */
  maxBufferAgeMillis?: number;
  /** Flush once a batch holds this many bytes. Default and maximum: the target's batch quota (5 MiB Kinesis, 4 MiB Firehose). */
  maxBufferSizeBytes?: number;
  /** Flush once a batch holds this many records. Default and maximum: 500. */
  maxBufferSizeRecords?: number;
  /** Receives each full or aged batch. Called synchronously from `add`, `flush` or the age timer. */
  onBatch(batch: Batch): void;
  clock?: Clock;
  /** Arms the age timer. Default: setTimeout. */
  schedule?: Schedule;
}

export class Batcher {
  private readonly quota: Readonly<TargetQuota>;
  private readonly maxAgeMillis: number;
  private readonly maxBytes: number;
  private readonly maxRecords: number;
  private readonly clock: Clock;
  private readonly schedule: Schedule;
  /** The batch being filled; made when its first record arrives. */
  private packer: RecordPacker | undefined;
  /**
   * The data bytes of the last batch: the next one is packed into a buffer that size (plus a
   * little), so a steady flow allocates one buffer per batch, not a doubling series of them.
   */
  private lastBatchDataBytes: number | undefined;
  private bytes = 0;
  private acks: Ack[] = [];
  /** When the oldest buffered record arrived. */
  private oldestAt = 0;
  private cancelAgeTimer: (() => void) | undefined;

  constructor(private readonly options: BatcherOptions) {
    this.quota = targetQuotas[options.target];
    this.maxAgeMillis = checkSetting('maxBufferAgeMillis', options.maxBufferAgeMillis ?? DEFAULT_MAX_BUFFER_AGE_MILLIS, 1, Number.MAX_SAFE_INTEGER);
    this.maxBytes = checkSetting('maxBufferSizeBytes', options.maxBufferSizeBytes ?? this.quota.maxBatchBytes, 1, this.quota.maxBatchBytes);
    this.maxRecords = checkSetting('maxBufferSizeRecords', options.maxBufferSizeRecords ?? this.quota.maxRecords, 1, this.quota.maxRecords);
    this.clock = options.clock ?? systemClock;
    this.schedule = options.schedule ?? systemSchedule;
  }

  /** Records waiting for their batch. */
  get bufferedRecords(): number {
    return this.packer?.length ?? 0;
  }

  /** Bytes waiting for their batch, counted as the target counts them. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** The size of `record` as the target counts it against its quotas. */
  recordBytes(record: AgentRecord): number {
    if (!this.quota.countsPartitionKey) return record.data.length;
    const keyBytes = record.partitionKey === undefined ? MAX_GENERATED_PARTITION_KEY_BYTES : utf8Length(record.partitionKey);
    return record.data.length + keyBytes;
  }

  /** Buffers `record`, flushing before it if it would not fit and after it if the batch is full. Throws BatcherError `RECORD_TOO_LARGE`. */
  add(record: AgentRecord): void {
    const size = this.recordBytes(record);
    if (size > this.quota.maxRecordBytes) {
      throw new BatcherError(
        'RECORD_TOO_LARGE',
        `a record of ${size} bytes${this.quota.countsPartitionKey ? ' (data and partition key)' : ''} is over the ${this.options.target} limit of ${this.quota.maxRecordBytes} bytes`,
      );
    }
    // A record larger than maxBufferSizeBytes (but within the quota) travels alone.
    if (this.packer !== undefined && this.bytes + size > this.maxBytes) this.flush();
    if (this.packer === undefined) {
      // Room for maxRecords ends is at most 2 KB: no need to grow that array.
      this.packer = new RecordPacker(this.lastBatchDataBytes === undefined ? undefined : Math.ceil(this.lastBatchDataBytes * 1.0625), this.maxRecords);
      this.oldestAt = this.clock.now();
      this.armAgeTimer(this.maxAgeMillis);
    }
    this.packer.add(record.data, record.partitionKey);
    this.bytes += size;
    for (const ack of record.acks) addAck(this.acks, ack);
    if (this.packer.length >= this.maxRecords || this.bytes >= this.maxBytes) this.flush();
  }

  /** Flushes the batch if its oldest record is `maxBufferAgeMillis` old at `now`; true if it did. */
  flushDue(now: number = this.clock.now()): boolean {
    if (this.packer === undefined || now - this.oldestAt < this.maxAgeMillis) return false;
    this.flush();
    return true;
  }

  private armAgeTimer(delayMillis: number): void {
    this.cancelAgeTimer = this.schedule(delayMillis, () => {
      this.cancelAgeTimer = undefined;
      // Timers may fire a little before the clock agrees the batch is due: wait out the rest.
      if (this.packer !== undefined && !this.flushDue()) this.armAgeTimer(Math.max(1, this.oldestAt + this.maxAgeMillis - this.clock.now()));
    });
  }

  /** Hands on whatever is buffered, however little (shutdown, or a source asking for its acknowledgements). */
  flush(): void {
    this.cancelAgeTimer?.();
    this.cancelAgeTimer = undefined;
    if (this.packer === undefined) return;
    const batch: Batch = { records: this.packer.finish(), bytes: this.bytes, acks: this.acks };
    this.lastBatchDataBytes = batch.records.dataBytes;
    this.packer = undefined;
    this.bytes = 0;
    this.acks = [];
    this.options.onBatch(batch);
  }
}

function checkSetting(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BatcherError('INVALID_BATCHER_OPTION', `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
