/**
 * The contract between the delivery engine and a destination. The engine owns buffering, the
 * checkpoint and retry timing (shared/backoff.ts); a destination only delivers one batch — it
 * resolves when the batch is durably at the destination, or throws a DeliveryFailure — and
 * writes failed records to its error output (an S3 bucket).
 */
import type { Clock } from '../../../shared/clock.js';
import type { DeliveryMetricDestination } from '../../metrics.js';
import type { Buffering } from '../buffering.js';
import type { ErrorBatch } from '../error-records.js';
import type { ErrorOutputType } from '../object-key.js';
import type { ObjectStore } from '../object-store.js';

export interface DeliveryRecord {
  /** Stable across retries and restarts: the buffer ordinal, `.n` for the n-th record split out of it. */
  id: string;
  arrivalMs: number;
  data: Buffer;
  /** From MetadataExtraction (dynamic partitioning). */
  partitionKeysFromQuery?: Record<string, string>;
  /** From a Lambda transform's `metadata.partitionKeys`. */
  partitionKeysFromLambda?: Record<string, string>;
}

export class DeliveryFailure extends Error {
  constructor(
    /** As AWS reports it in error records and logs, e.g. `S3.AccessDenied`, `HttpEndpoint.ResponseTooLarge`. */
    readonly code: string,
    message: string,
    /** No retry can help (e.g. HTTP 413): go to the error output at once. */
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface Destination {
  readonly buffering: Buffering;
  /** AWS ProcessingConfiguration of this destination, if enabled. */
  readonly processing: ProcessingConfiguration | undefined;
  /** How long a failing batch is retried before it goes to the error output; undefined: until delivered. */
  readonly retryDurationMs: number | undefined;
  /** The error output type of a batch that failed delivery. */
  readonly deliveryErrorType: ErrorOutputType;
  deliver(records: readonly DeliveryRecord[]): Promise<void>;
  writeErrors(batch: ErrorBatch): Promise<void>;
  /** S3BackupMode Enabled: the batch's source records, before processing, to the backup bucket. */
  backupSource?(records: readonly DeliveryRecord[]): Promise<void>;
}

export interface ProcessingConfiguration {
  Enabled?: boolean;
  Processors?: Array<{ Type: string; Parameters?: Array<{ ParameterName: string; ParameterValue: string }> }>;
}

/** A destination's processing: its ProcessingConfiguration unless that is explicitly disabled. */
export function enabledProcessing(configuration: ProcessingConfiguration | undefined): ProcessingConfiguration | undefined {
  return configuration?.Enabled === false ? undefined : configuration;
}

export interface DestinationContext {
  streamName: string;
  deliveryStreamArn: string;
  versionId: number;
  clock: Clock;
  /** Where DataFormatConversion finds table schemas (Glue's role): `<data-dir>/glue/`. */
  schemaDir: string;
  /** The object store and bucket name behind a bucket ARN. */
  objectStoreFor(bucketArn: string): { store: ObjectStore; bucket: string };
}

export interface DestinationSpec {
  /** Registry key, stored in the metadata, e.g. `ExtendedS3`. */
  kind: string;
  /** The `DeliveryTo<…>` part of its CloudWatch metric names. */
  metricsName: DeliveryMetricDestination;
  /** The CreateDeliveryStream member that selects it, e.g. `ExtendedS3DestinationConfiguration`. */
  configurationMember: string;
  /** UpdateDestination's member for it, e.g. `ExtendedS3DestinationUpdate`. */
  updateMember: string;
  /** DescribeDeliveryStream's member for it, e.g. `ExtendedS3DestinationDescription`. */
  descriptionMember: string;
  /** Checks a configuration (InvalidArgumentException) and fills in AWS's defaults: what Describe shows. */
  normalize(config: Record<string, unknown>): Record<string, unknown>;
  /** UpdateDestination: the members given replace the current ones; nested structures merge. */
  merge(current: Record<string, unknown>, update: Record<string, unknown>): Record<string, unknown>;
  /** The Describe view of a configuration when it differs from the stored one (e.g. secrets left out). */
  describe?(config: Record<string, unknown>): Record<string, unknown>;
  /** Extra Describe members derived from the configuration (e.g. the legacy S3DestinationDescription). */
  describeExtras?(config: Record<string, unknown>): Record<string, unknown>;
  create(config: Record<string, unknown>, context: DestinationContext): Destination;
}

/** UpdateDestination merge: nested structures merge member by member, lists and scalars replace. */
export function mergeConfiguration(current: Record<string, unknown>, update: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    const existing = merged[key];
    merged[key] = isStructure(existing) && isStructure(value) ? mergeConfiguration(existing, value) : value;
  }
  return merged;
}

function isStructure(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}

/**
 * UpdateDestination for destinations with a nested S3 bucket configuration: the update member
 * (`S3Update`, or ExtendedS3's `S3BackupUpdate`) merges into its configuration member
 * (`S3Configuration`, `S3BackupConfiguration`); the other members merge as usual.
 */
export function mergeWithS3Update(
  current: Record<string, unknown>,
  update: Record<string, unknown>,
  updateMember = 'S3Update',
  configurationMember = 'S3Configuration',
): Record<string, unknown> {
  const { [updateMember]: nested, ...rest } = update as Record<string, Record<string, unknown> | undefined>;
  const merged = mergeConfiguration(current, rest);
  if (nested) merged[configurationMember] = mergeConfiguration((current[configurationMember] as Record<string, unknown> | undefined) ?? {}, nested);
  return merged;
}
