/**
 * OpenSearch Service (AmazonopensearchserviceDestination) and Elasticsearch destinations: one
 * `_bulk` request per batch to ClusterEndpoint, an `index` action per record into IndexName with
 * the IndexRotationPeriod suffix of the record's UTC arrival time (OneHour `-yyyy-MM-dd-HH`,
 * OneDay `-yyyy-MM-dd`, OneWeek `-yyyy-ww`, OneMonth `-yyyy-MM`; developer guide, "Index rotation
 * for the OpenSearch destination"). With DocumentIdOptions FIREHOSE_DEFAULT (the default) every
 * document has an id derived from its buffer position, the same on every retry, so a retried
 * bulk request overwrites instead of duplicating; NO_DOCUMENT_ID lets the cluster pick ids.
 *
 * A bulk answer with item failures: items the cluster may take later (429, 5xx) make the whole
 * batch retry (idempotent with stable ids); items it refuses (other 4xx, e.g. a mapping error)
 * go to the S3 backup as `AmazonOpenSearchService-failed` / `elasticsearch-failed` at once.
 * S3BackupMode AllDocuments also backs up every batch.
 *
 * Requests are not SigV4-signed: a Riffle appliance talks to a cluster on its own network.
 */
import { AwsError } from '../../../shared/errors.js';
import { bufferingOf, normalizeBufferingHints, type BufferingLimits, type WireBufferingHints } from '../buffering.js';
import { failedRecord, type FailedRecord } from '../error-records.js';
import { compileDateTimePattern, formatDateTime, type ErrorOutputType } from '../object-key.js';
import { DeliveryFailure, mergeWithS3Update, type DeliveryRecord, type DestinationContext, type DestinationSpec } from './destination.js';
import { describeS3Backed, normalizeS3Backed, S3BackedDestination, type S3BackedConfiguration } from './s3-backed.js';

type RotationPeriod = 'NoRotation' | 'OneHour' | 'OneDay' | 'OneWeek' | 'OneMonth';

interface SearchConfiguration extends S3BackedConfiguration {
  ClusterEndpoint?: string;
  DomainARN?: string;
  IndexName: string;
  TypeName?: string;
  IndexRotationPeriod: RotationPeriod;
  BufferingHints: Required<WireBufferingHints>;
  S3BackupMode: 'FailedDocumentsOnly' | 'AllDocuments';
  DocumentIdOptions: { DefaultDocumentIdFormat: 'FIREHOSE_DEFAULT' | 'NO_DOCUMENT_ID' };
}

// AmazonopensearchserviceBufferingHints / ElasticsearchBufferingHints: 1–100 MiB (default 5), 0–900 s (default 300).
const searchBufferingLimits: BufferingLimits = { sizeMiB: { min: 1, max: 100, default: 5 }, intervalSeconds: { min: 0, max: 900, default: 300 } };
// AmazonopensearchserviceRetryOptions: DurationInSeconds 0–7200, default 300.
const DEFAULT_RETRY_SECONDS = 300;
const rotationSuffixes: Record<Exclude<RotationPeriod, 'NoRotation'>, ReturnType<typeof compileDateTimePattern>> = {
  OneHour: compileDateTimePattern("'-'yyyy-MM-dd-HH", 'IndexRotationPeriod'),
  OneDay: compileDateTimePattern("'-'yyyy-MM-dd", 'IndexRotationPeriod'),
  OneWeek: compileDateTimePattern("'-'yyyy-ww", 'IndexRotationPeriod'),
  OneMonth: compileDateTimePattern("'-'yyyy-MM", 'IndexRotationPeriod'),
};

function normalizeSearch(raw: Record<string, unknown>, kind: string): Record<string, unknown> {
  const config = raw as Partial<SearchConfiguration> & { BufferingHints?: WireBufferingHints };
  if (!config.ClusterEndpoint) {
    throw new AwsError('InvalidArgumentException', `${kind}: Riffle needs ClusterEndpoint (a DomainARN names an AWS-managed domain it cannot reach).`);
  }
  if (!config.IndexName) throw new AwsError('InvalidArgumentException', 'IndexName is required.');
  const shared = normalizeS3Backed(config, { retrySeconds: DEFAULT_RETRY_SECONDS, backupMode: 'FailedDocumentsOnly' });
  return {
    ...config,
    IndexRotationPeriod: config.IndexRotationPeriod ?? 'OneDay',
    BufferingHints: normalizeBufferingHints(config.BufferingHints, searchBufferingLimits, kind),
    ...shared,
    DocumentIdOptions: config.DocumentIdOptions ?? { DefaultDocumentIdFormat: 'FIREHOSE_DEFAULT' },
  };
}

interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string };
}

class SearchDestination extends S3BackedDestination {
  constructor(
    private readonly config: SearchConfiguration,
    private readonly context: DestinationContext,
    readonly deliveryErrorType: ErrorOutputType,
  ) {
    super(config, bufferingOf(config.BufferingHints), context);
  }

  indexFor(arrivalMs: number): string {
    const period = this.config.IndexRotationPeriod;
    return period === 'NoRotation' ? this.config.IndexName : this.config.IndexName + formatDateTime(rotationSuffixes[period], arrivalMs, 'UTC');
  }

  async deliver(records: readonly DeliveryRecord[]): Promise<void> {
    const withIds = this.config.DocumentIdOptions.DefaultDocumentIdFormat === 'FIREHOSE_DEFAULT';
    const lines: string[] = [];
    for (const record of records) {
      const action = {
        _index: this.indexFor(record.arrivalMs),
        ...(this.config.TypeName ? { _type: this.config.TypeName } : {}),
        ...(withIds ? { _id: `${this.context.streamName}-${record.id}` } : {}),
      };
      lines.push(JSON.stringify({ index: action }), record.data.toString('utf8').replace(/\n+$/, ''));
    }
    let response: Response;
    try {
      response = await fetch(new URL('_bulk', this.config.ClusterEndpoint!.replace(/\/?$/, '/')), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-ndjson' },
        body: `${lines.join('\n')}\n`,
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new DeliveryFailure('OS.ConnectionFailed', `The bulk request failed: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) throw new DeliveryFailure(`OS.${response.status}`, `The cluster answered HTTP ${response.status}: ${text.slice(0, 200)}`, response.status === 413);
    let items: BulkItem[];
    try {
      const answer = JSON.parse(text) as { items?: Array<Record<string, BulkItem>> };
      items = (answer.items ?? []).map((item) => Object.values(item)[0]!);
    } catch {
      throw new DeliveryFailure('OS.InvalidResponse', 'The bulk response is not JSON.');
    }
    if (items.length !== records.length) throw new DeliveryFailure('OS.InvalidResponse', `The bulk response has ${items.length} items for ${records.length} documents.`);
    if (items.some((item) => item.status === 429 || item.status >= 500)) {
      throw new DeliveryFailure('OS.TooManyRequests', 'Some documents were not indexed for now (429/5xx); the batch is retried with the same document ids.');
    }
    const now = this.context.clock.now();
    const refused: FailedRecord[] = [];
    items.forEach((item, index) => {
      if (item.status < 300) return;
      refused.push(failedRecord(records[index]!, `OS.${item.error?.type ?? item.status}`, item.error?.reason ?? `HTTP ${item.status}`, 1, now));
    });
    if (refused.length > 0) await this.writeErrors({ type: this.deliveryErrorType, records: refused });
    if (this.config.S3BackupMode === 'AllDocuments') await this.s3.deliver(records);
  }
}

function searchSpec(kind: 'AmazonOpenSearchService' | 'Elasticsearch', member: string, errorType: ErrorOutputType): DestinationSpec {
  const normalize = (config: Record<string, unknown>) => normalizeSearch(config, kind);
  return {
    kind,
    metricsName: kind,
    configurationMember: `${member}Configuration`,
    updateMember: `${member}Update`,
    descriptionMember: `${member}Description`,
    normalize,
    merge: (current, update) => normalize(mergeWithS3Update(current, update)),
    describe: describeS3Backed,
    create: (config, context) => new SearchDestination(config as unknown as SearchConfiguration, context, errorType),
  };
}

export const opensearchDestination = searchSpec('AmazonOpenSearchService', 'AmazonopensearchserviceDestination', 'AmazonOpenSearchService-failed');
export const elasticsearchDestination = searchSpec('Elasticsearch', 'ElasticsearchDestination', 'elasticsearch-failed');
