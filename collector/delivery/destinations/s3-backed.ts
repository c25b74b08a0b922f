/**
 * What the destinations with an S3 bucket beside them share (HttpEndpoint, OpenSearch and
 * Elasticsearch, Splunk, Redshift): their S3Configuration is an ExtendedS3 configuration (the
 * backup bucket, or Redshift's staging bucket) and holds their error output; RetryOptions and
 * S3BackupMode take a per-destination AWS default; Describe shows the bucket as
 * S3DestinationDescription.
 */
import { AwsError } from '../../../shared/errors.js';
import type { Buffering } from '../buffering.js';
import type { ErrorBatch } from '../error-records.js';
import type { ErrorOutputType } from '../object-key.js';
import { checkProcessingConfiguration } from '../processors/index.js';
import { enabledProcessing, type DeliveryRecord, type Destination, type DestinationContext, type ProcessingConfiguration } from './destination.js';
import { extendedS3Destination, type ExtendedS3Destination } from './extended-s3.js';

export interface S3BackedConfiguration {
  RetryOptions: { DurationInSeconds: number };
  S3BackupMode: string;
  S3Configuration: Record<string, unknown>;
  ProcessingConfiguration?: ProcessingConfiguration;
}

/** Checks the shared members and returns them with AWS's defaults filled in (the S3 bucket normalized as ExtendedS3). */
export function normalizeS3Backed(
  config: Partial<S3BackedConfiguration>,
  defaults: { retrySeconds: number; backupMode: string },
): Pick<S3BackedConfiguration, 'RetryOptions' | 'S3BackupMode' | 'S3Configuration'> {
  if (!config.S3Configuration) throw new AwsError('InvalidArgumentException', 'S3Configuration is required.');
  checkProcessingConfiguration(config.ProcessingConfiguration);
  return {
    RetryOptions: { DurationInSeconds: config.RetryOptions?.DurationInSeconds ?? defaults.retrySeconds },
    S3BackupMode: config.S3BackupMode ?? defaults.backupMode,
    S3Configuration: extendedS3Destination.normalize(config.S3Configuration),
  };
}

/** Describe's view: the bucket configuration as S3DestinationDescription. */
export function describeS3Backed(config: Record<string, unknown>): Record<string, unknown> {
  const { S3Configuration, ...rest } = config;
  return { ...rest, S3DestinationDescription: S3Configuration };
}

export abstract class S3BackedDestination implements Destination {
  readonly processing: ProcessingConfiguration | undefined;
  readonly retryDurationMs: number;
  abstract readonly deliveryErrorType: ErrorOutputType;
  /** The S3Configuration bucket: failed records go to its error output. */
  protected readonly s3: ExtendedS3Destination;

  constructor(
    config: S3BackedConfiguration,
    readonly buffering: Buffering,
    context: DestinationContext,
  ) {
    this.processing = enabledProcessing(config.ProcessingConfiguration);
    this.retryDurationMs = config.RetryOptions.DurationInSeconds * 1000;
    this.s3 = extendedS3Destination.create(config.S3Configuration, context) as ExtendedS3Destination;
  }

  abstract deliver(records: readonly DeliveryRecord[]): Promise<void>;

  writeErrors(batch: ErrorBatch): Promise<void> {
    return this.s3.writeErrors(batch);
  }
}
