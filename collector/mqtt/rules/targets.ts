/**
 * Where rule actions deliver: Kinesis streams of this collector's StreamStore (in process),
 * Firehose delivery streams through a narrow FirehoseTarget that main.ts wires when Firehose
 * delivery exists, and the broker itself for republish. Each turns its target's answers into
 * RuleFailures: retryable for throttling and internal failures, final for unknown targets and
 * refused records.
 */
import { isAwsError } from '../../../shared/errors.js';
import type { StreamStore } from '../../store/streams.js';
import { Batcher } from './batcher.js';
import { RuleFailure } from './failure.js';

/** Firehose delivery, as the rules need it. Throws AwsError ResourceNotFoundException for an unknown delivery stream. */
export interface FirehoseTarget {
  putRecordBatch(deliveryStreamName: string, records: Buffer[]): Promise<Array<{ recordId: string } | { errorCode: string; errorMessage: string }>>;
}

// PutRecords quota: 500 records, 5 MiB per call (Kinesis Data Streams quotas).
const kinesisBatchLimits = { maxRecords: 500, maxBytes: 5 * 1024 * 1024 };
// PutRecordBatch quota: 500 records, 4 MiB per call (Amazon Data Firehose quotas).
const firehoseBatchLimits = { maxRecords: 500, maxBytes: 4 * 1024 * 1024 };
// Kinesis PartitionKey: 1 to 256 Unicode characters (PutRecords API reference).
const MAX_PARTITION_KEY_CHARS = 256;
// Firehose record: at most 1,000 KiB before base64 (Amazon Data Firehose quotas).
const MAX_FIREHOSE_RECORD_BYTES = 1000 * 1024;

interface KinesisEntry {
  data: Buffer;
  partitionKey: string;
}

export class RuleTargets {
  private readonly kinesis = new Map<string, Batcher<KinesisEntry>>();
  private readonly firehoseBatchers = new Map<string, Batcher<Buffer>>();

  constructor(
    private readonly store: StreamStore,
    private readonly firehose: FirehoseTarget | undefined,
    readonly republish: (topic: string, payload: Buffer, qos: 0 | 1) => Promise<void>,
  ) {}

  putKinesis(streamName: string, entry: KinesisEntry): Promise<void> {
    const partitionKeyChars = [...entry.partitionKey].length;
    if (partitionKeyChars < 1 || partitionKeyChars > MAX_PARTITION_KEY_CHARS) {
      return Promise.reject(new RuleFailure('RecordRejected', `partition key must be 1–${MAX_PARTITION_KEY_CHARS} characters, got ${partitionKeyChars}`));
    }
    let maxBytes: number;
    try {
      maxBytes = this.store.maxRecordBytes({ streamName });
    } catch (error) {
      return Promise.reject(kinesisFailure(error, streamName));
    }
    const bytes = entry.data.length + Buffer.byteLength(entry.partitionKey);
    if (bytes > maxBytes) return Promise.reject(new RuleFailure('RecordRejected', `record of ${bytes} bytes exceeds stream ${streamName}'s ${maxBytes}-byte limit`));
    let batcher = this.kinesis.get(streamName);
    if (!batcher) {
      batcher = new Batcher((entries) => this.sendKinesis(streamName, entries), kinesisBatchLimits);
      this.kinesis.set(streamName, batcher);
    }
    return batcher.add(entry, bytes);
  }

  private async sendKinesis(streamName: string, entries: KinesisEntry[]): Promise<Array<RuleFailure | undefined>> {
    let results;
    try {
      results = await this.store.putRecords({ streamName }, entries);
    } catch (error) {
      throw kinesisFailure(error, streamName);
    }
    return results.map((result) => ('errorCode' in result ? new RuleFailure('TargetBusy', `${result.errorCode}: ${result.errorMessage}`, true) : undefined));
  }

  putFirehose(deliveryStreamName: string, record: Buffer): Promise<void> {
    if (!this.firehose) return Promise.reject(new RuleFailure('FirehoseTargetUnavailable', 'Firehose delivery is not available in this collector'));
    if (record.length > MAX_FIREHOSE_RECORD_BYTES) return Promise.reject(new RuleFailure('RecordRejected', `record of ${record.length} bytes exceeds Firehose's ${MAX_FIREHOSE_RECORD_BYTES}`));
    let batcher = this.firehoseBatchers.get(deliveryStreamName);
    if (!batcher) {
      batcher = new Batcher((records) => this.sendFirehose(deliveryStreamName, records), firehoseBatchLimits);
      this.firehoseBatchers.set(deliveryStreamName, batcher);
    }
    return batcher.add(record, record.length);
  }

  private async sendFirehose(deliveryStreamName: string, records: Buffer[]): Promise<Array<RuleFailure | undefined>> {
    let results;
    try {
      results = await this.firehose!.putRecordBatch(deliveryStreamName, records);
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) throw new RuleFailure('UnknownDeliveryStream', error.message);
      // e.g. a delivery stream that reads from a Kinesis stream takes no direct puts.
      if (isAwsError(error, 'InvalidArgumentException') || isAwsError(error, 'ValidationException')) throw new RuleFailure('RecordRejected', error.message);
      throw new RuleFailure('TargetBusy', String(error), true);
    }
    return results.map((result) => ('errorCode' in result ? new RuleFailure('TargetBusy', `${result.errorCode}: ${result.errorMessage}`, true) : undefined));
  }
}

function kinesisFailure(error: unknown, streamName: string): RuleFailure {
  if (isAwsError(error, 'ResourceNotFoundException')) return new RuleFailure('UnknownStream', `stream ${streamName} does not exist`);
  if (isAwsError(error, 'ValidationException') || isAwsError(error, 'InvalidArgumentException')) return new RuleFailure('RecordRejected', error.message);
  // ResourceInUseException (stream not ACTIVE yet), a closing store, I/O errors: try again later.
  return new RuleFailure('TargetBusy', String(error), true);
}
