/**
 * ExtendedS3 destination: a batch becomes one object per evaluated prefix (one, unless dynamic
 * partitioning splits it), records concatenated as they are (Firehose adds no delimiter),
 * compressed with CompressionFormat and named as Firehose names objects (object-key.ts). Failed
 * records go to the same bucket under the ErrorOutputPrefix.
 *
 * The legacy S3DestinationConfiguration is the same destination with fewer members.
 */
import { AwsError } from '../../../shared/errors.js';
import { bufferingOf, normalizeBufferingHints, s3BufferingLimits, type WireBufferingHints } from '../buffering.js';
import { compress, compressionExtensions, type CompressionFormat } from '../compression.js';
import { encodeErrorRecords, failedRecord, type ErrorBatch, type FailedRecord } from '../error-records.js';
import {
  checkObjectKey,
  checkPrefixes,
  evaluateDataPrefix,
  evaluateErrorPrefix,
  isSupportedTimeZone,
  MissingPartitionKeyError,
  objectSuffix,
  parsePrefix,
  type ParsedPrefix,
} from '../object-key.js';
import { checkDataFormatConversion, ParquetConverter, type DataFormatConversionConfiguration } from '../format-conversion.js';
import { bucketOf } from '../object-store.js';
import { checkProcessingConfiguration } from '../processors/index.js';
import {
  enabledProcessing,
  mergeWithS3Update,
  type DeliveryRecord,
  type Destination,
  type DestinationContext,
  type DestinationSpec,
  type ProcessingConfiguration,
} from './destination.js';

interface ExtendedS3Configuration {
  BucketARN: string;
  RoleARN: string;
  Prefix?: string;
  ErrorOutputPrefix?: string;
  BufferingHints: Required<WireBufferingHints>;
  CompressionFormat: CompressionFormat;
  FileExtension?: string;
  CustomTimeZone?: string;
  ProcessingConfiguration?: ProcessingConfiguration;
  DynamicPartitioningConfiguration?: { Enabled?: boolean; RetryOptions?: { DurationInSeconds?: number } };
  DataFormatConversionConfiguration?: DataFormatConversionConfiguration;
  S3BackupMode?: 'Disabled' | 'Enabled';
  /** Where S3BackupMode Enabled keeps the source records (before processing). */
  S3BackupConfiguration?: Record<string, unknown>;
}

const PARQUET_EXTENSION = '.parquet';

// Dynamic partitioning quota: 500 active partitions per delivery stream (Firehose quotas).
const MAX_ACTIVE_PARTITIONS = 500;

class PartitionLimitError extends Error {
  constructor() {
    super(`More than ${MAX_ACTIVE_PARTITIONS} active partitions in one buffer.`);
  }
}

// AWS: a delivery stream writing to S3 retries for up to 24 hours; Riffle keeps retrying (never drops acknowledged data).
const S3_DELIVERY_ERROR_TYPE = 'processing-failed';

export function checkBucketArn(bucketArn: string, member: string): void {
  if (bucketOf(bucketArn) === undefined) throw new AwsError('InvalidArgumentException', `${member} ${bucketArn} is not a valid S3 bucket ARN.`);
}

function normalizeExtendedS3(raw: Record<string, unknown>): Record<string, unknown> {
  const config = raw as unknown as ExtendedS3Configuration & { BufferingHints?: WireBufferingHints; CompressionFormat?: CompressionFormat };
  if (config.BucketARN === undefined) throw new AwsError('InvalidArgumentException', 'BucketARN is required.');
  if (config.RoleARN === undefined) throw new AwsError('InvalidArgumentException', 'RoleARN is required.');
  checkBucketArn(config.BucketARN, 'BucketARN');
  const dynamicPartitioning = config.DynamicPartitioningConfiguration?.Enabled === true;
  checkPrefixes(config.Prefix, config.ErrorOutputPrefix, dynamicPartitioning);
  if (config.CustomTimeZone !== undefined && !isSupportedTimeZone(config.CustomTimeZone)) {
    throw new AwsError('InvalidArgumentException', `CustomTimeZone ${config.CustomTimeZone} is not supported.`);
  }
  checkDataFormatConversion(config.DataFormatConversionConfiguration, config.CompressionFormat ?? 'UNCOMPRESSED');
  checkProcessingConfiguration(config.ProcessingConfiguration);
  if (config.S3BackupMode === 'Enabled' && !config.S3BackupConfiguration) {
    throw new AwsError('InvalidArgumentException', 'S3BackupConfiguration is required when S3BackupMode is Enabled.');
  }
  if (config.FileExtension !== undefined && config.FileExtension !== '' && !config.FileExtension.startsWith('.')) {
    throw new AwsError('InvalidArgumentException', 'FileExtension must start with a period (.).');
  }
  return {
    ...config,
    BufferingHints: normalizeBufferingHints(config.BufferingHints, s3BufferingLimits, 'ExtendedS3'),
    CompressionFormat: config.CompressionFormat ?? 'UNCOMPRESSED',
    EncryptionConfiguration: (raw.EncryptionConfiguration as object | undefined) ?? { NoEncryptionConfig: 'NoEncryption' },
    S3BackupMode: config.S3BackupMode ?? 'Disabled',
    ...(config.S3BackupConfiguration ? { S3BackupConfiguration: normalizeExtendedS3(config.S3BackupConfiguration) } : {}),
  };
}

export class ExtendedS3Destination implements Destination {
  readonly buffering;
  readonly processing;
  readonly retryDurationMs = undefined;
  readonly deliveryErrorType = S3_DELIVERY_ERROR_TYPE;
  private readonly prefix: ParsedPrefix;
  private readonly errorPrefix: ParsedPrefix | undefined;
  private readonly timeZone: string;
  private readonly converter: ParquetConverter | undefined;
  private readonly sourceBackup: ExtendedS3Destination | undefined;

  constructor(
    private readonly config: ExtendedS3Configuration,
    private readonly context: DestinationContext,
  ) {
    this.buffering = bufferingOf(config.BufferingHints);
    this.processing = enabledProcessing(config.ProcessingConfiguration);
    this.prefix = parsePrefix(config.Prefix ?? '', 'Prefix');
    this.errorPrefix = config.ErrorOutputPrefix === undefined ? undefined : parsePrefix(config.ErrorOutputPrefix, 'ErrorOutputPrefix');
    this.timeZone = config.CustomTimeZone ?? 'UTC';
    const conversion = config.DataFormatConversionConfiguration;
    this.converter = conversion && conversion.Enabled !== false ? new ParquetConverter(conversion, context.schemaDir) : undefined;
    this.sourceBackup =
      config.S3BackupMode === 'Enabled' && config.S3BackupConfiguration
        ? new ExtendedS3Destination(config.S3BackupConfiguration as unknown as ExtendedS3Configuration, context)
        : undefined;
    if (this.sourceBackup) this.backupSource = (records) => this.sourceBackup!.deliver(records);
  }

  backupSource?: (records: readonly DeliveryRecord[]) => Promise<void>;

  async deliver(records: readonly DeliveryRecord[]): Promise<void> {
    // Dynamic partitioning: one object per set of partition keys, in first-seen order; the
    // prefix's timestamp is the object's oldest record's arrival time.
    const groups = new Map<string, DeliveryRecord[]>();
    for (const record of records) {
      const partition = JSON.stringify([record.partitionKeysFromQuery ?? null, record.partitionKeysFromLambda ?? null]);
      const group = groups.get(partition);
      if (group) group.push(record);
      else groups.set(partition, [record]);
    }
    const failed: FailedRecord[] = [];
    let partitions = 0;
    for (const group of groups.values()) {
      const first = group[0]!;
      const oldestMs = group.reduce((min, record) => Math.min(min, record.arrivalMs), Infinity);
      let prefix: string;
      try {
        if (++partitions > MAX_ACTIVE_PARTITIONS) throw new PartitionLimitError();
        prefix = evaluateDataPrefix(this.prefix, {
          timestampMs: oldestMs,
          timeZone: this.timeZone,
          ...(first.partitionKeysFromQuery ? { partitionKeysFromQuery: first.partitionKeysFromQuery } : {}),
          ...(first.partitionKeysFromLambda ? { partitionKeysFromLambda: first.partitionKeysFromLambda } : {}),
        });
      } catch (error) {
        if (!(error instanceof MissingPartitionKeyError || error instanceof PartitionLimitError)) throw error;
        // A record that cannot be placed must not block the stream: it goes to the error output.
        const code = error instanceof PartitionLimitError ? 'DynamicPartitioning.ActivePartitionsLimitExceeded' : 'DynamicPartitioning.PartitionKeyMissing';
        const now = this.context.clock.now();
        for (const record of group) failed.push(failedRecord(record, code, error.message, 1, now));
        continue;
      }
      if (this.converter) {
        const converted = await this.converter.convert(group);
        if (converted.body) await this.putObject(prefix, oldestMs, converted.body, 'UNCOMPRESSED', PARQUET_EXTENSION);
        const now = this.context.clock.now();
        const unconverted = converted.failed.map(({ record, reason }) => failedRecord(record, 'DataFormatConversion.MalformedData', reason, 1, now));
        if (unconverted.length > 0) await this.writeErrors({ type: 'format-conversion-failed', records: unconverted });
      } else {
        await this.putObject(prefix, oldestMs, Buffer.concat(group.map((record) => record.data)), this.config.CompressionFormat);
      }
    }
    if (failed.length > 0) await this.writeErrors({ type: 'processing-failed', records: failed });
  }

  async writeErrors(batch: ErrorBatch): Promise<void> {
    if (batch.records.length === 0) return;
    const oldestMs = batch.records.reduce((min, record) => Math.min(min, record.arrivalMs), Infinity);
    const prefix = evaluateErrorPrefix(this.errorPrefix, { timestampMs: oldestMs, timeZone: this.timeZone, errorOutputType: batch.type });
    await this.putObject(prefix, oldestMs, encodeErrorRecords(batch.records), 'UNCOMPRESSED');
  }

  private async putObject(prefix: string, oldestMs: number, body: Buffer, format: CompressionFormat, defaultExtension = compressionExtensions[format]): Promise<void> {
    const extension = this.config.FileExtension ?? defaultExtension;
    const name = objectSuffix(this.context.streamName, this.context.versionId, oldestMs, this.timeZone, extension);
    const key = prefix + name;
    checkObjectKey(key);
    const { store, bucket } = this.context.objectStoreFor(this.config.BucketARN);
    const entryName = extension ? name.slice(0, -extension.length) : name;
    await store.putObject(bucket, key, await compress(format, body, entryName));
  }
}

export const extendedS3Destination: DestinationSpec = {
  kind: 'ExtendedS3',
  metricsName: 'S3',
  configurationMember: 'ExtendedS3DestinationConfiguration',
  updateMember: 'ExtendedS3DestinationUpdate',
  descriptionMember: 'ExtendedS3DestinationDescription',
  normalize: normalizeExtendedS3,
  merge: (current, update) => normalizeExtendedS3(mergeWithS3Update(current, update, 'S3BackupUpdate', 'S3BackupConfiguration')),
  describe(config) {
    const { S3BackupConfiguration, ...rest } = config;
    return { ...rest, ...(S3BackupConfiguration ? { S3BackupDescription: S3BackupConfiguration } : {}) };
  },
  describeExtras(config) {
    // AWS also shows every ExtendedS3 destination through the legacy S3 view.
    const { RoleARN, BucketARN, Prefix, ErrorOutputPrefix, BufferingHints, CompressionFormat, EncryptionConfiguration, CloudWatchLoggingOptions } = config;
    return {
      S3DestinationDescription: Object.fromEntries(
        Object.entries({ RoleARN, BucketARN, Prefix, ErrorOutputPrefix, BufferingHints, CompressionFormat, EncryptionConfiguration, CloudWatchLoggingOptions }).filter(
          ([, value]) => value !== undefined,
        ),
      ),
    };
  },
  create: (config, context) => new ExtendedS3Destination(config as unknown as ExtendedS3Configuration, context),
};
