/**
 * HttpEndpoint destination, per Firehose's "HTTP endpoint delivery request and response
 * specifications": one POST per batch to EndpointConfiguration.Url with
 *
 *   X-Amz-Firehose-Protocol-Version: 1.0
 *   X-Amz-Firehose-Request-Id: <uuid, the same for every retry of a batch>
 *   X-Amz-Firehose-Source-Arn: <delivery stream ARN>
 *   X-Amz-Firehose-Access-Key: <AccessKey>                       (when configured)
 *   X-Amz-Firehose-Common-Attributes: {"commonAttributes":{…}}   (when configured)
 *   Content-Type: application/json · Content-Encoding: gzip      (RequestConfiguration GZIP)
 *
 * and the body `{"requestId", "timestamp", "records": [{"data": <base64>}]}`. Only a 200 whose JSON
 * body carries the same requestId is a success; 413 is permanent (the batch goes to the S3 backup
 * at once); everything else is retried for RetryOptions.DurationInSeconds, then the batch goes to
 * the S3 backup under `http-endpoint-failed/`. S3BackupMode AllData also backs up every batch.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { AwsError } from '../../../shared/errors.js';
import { bufferingOf, httpEndpointBufferingLimits, normalizeBufferingHints, type WireBufferingHints } from '../buffering.js';
import { DeliveryFailure, mergeWithS3Update, type DeliveryRecord, type DestinationContext, type DestinationSpec } from './destination.js';
import { describeS3Backed, normalizeS3Backed, S3BackedDestination, type S3BackedConfiguration } from './s3-backed.js';

interface HttpEndpointConfiguration extends S3BackedConfiguration {
  EndpointConfiguration: { Url: string; Name?: string; AccessKey?: string };
  BufferingHints: Required<WireBufferingHints>;
  RequestConfiguration: { ContentEncoding: 'NONE' | 'GZIP'; CommonAttributes?: Array<{ AttributeName: string; AttributeValue: string }> };
  RoleARN?: string;
  S3BackupMode: 'FailedDataOnly' | 'AllData';
}

const gzipAsync = promisify(gzip);
// HttpEndpointRetryOptions: DurationInSeconds 0–7200, default 300 (Firehose API reference).
const DEFAULT_RETRY_SECONDS = 300;
// Firehose waits up to 3 minutes for an endpoint's response before it counts the attempt as failed.
const RESPONSE_TIMEOUT_MS = 180_000;
const PROTOCOL_VERSION = '1.0';

function normalizeHttpEndpoint(raw: Record<string, unknown>): Record<string, unknown> {
  const config = raw as Partial<HttpEndpointConfiguration> & { BufferingHints?: WireBufferingHints };
  const url = config.EndpointConfiguration?.Url;
  if (!url) throw new AwsError('InvalidArgumentException', 'EndpointConfiguration.Url is required.');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AwsError('InvalidArgumentException', `EndpointConfiguration.Url ${url} is not a URL.`);
  }
  // The model's pattern (https://.*) already demands HTTPS; this catches what the pattern lets through.
  if (parsed.protocol !== 'https:') throw new AwsError('InvalidArgumentException', `EndpointConfiguration.Url must be an https URL: ${url}`);
  const shared = normalizeS3Backed(config, { retrySeconds: DEFAULT_RETRY_SECONDS, backupMode: 'FailedDataOnly' });
  return {
    ...config,
    BufferingHints: normalizeBufferingHints(config.BufferingHints, httpEndpointBufferingLimits, 'HttpEndpoint'),
    RequestConfiguration: { ContentEncoding: 'NONE', ...(config.RequestConfiguration ?? {}) },
    ...shared,
  };
}

class HttpEndpointDestination extends S3BackedDestination {
  readonly deliveryErrorType = 'http-endpoint-failed';
  /** The request id of a batch, kept across its retries (the engine retries with the same array). */
  private readonly requestIds = new WeakMap<readonly DeliveryRecord[], string>();

  constructor(
    private readonly config: HttpEndpointConfiguration,
    private readonly context: DestinationContext,
  ) {
    super(config, bufferingOf(config.BufferingHints), context);
  }

  async deliver(records: readonly DeliveryRecord[]): Promise<void> {
    let requestId = this.requestIds.get(records);
    if (!requestId) {
      requestId = randomUUID();
      this.requestIds.set(records, requestId);
    }
    await this.post(requestId, records);
    if (this.config.S3BackupMode === 'AllData') await this.s3.deliver(records);
  }

  private async post(requestId: string, records: readonly DeliveryRecord[]): Promise<void> {
    const { EndpointConfiguration: endpoint, RequestConfiguration: request } = this.config;
    const json = Buffer.from(JSON.stringify({ requestId, timestamp: this.context.clock.now(), records: records.map((record) => ({ data: record.data.toString('base64') })) }));
    const gzipped = request.ContentEncoding === 'GZIP';
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Amz-Firehose-Protocol-Version': PROTOCOL_VERSION,
      'X-Amz-Firehose-Request-Id': requestId,
      'X-Amz-Firehose-Source-Arn': this.context.deliveryStreamArn,
      'User-Agent': 'Amazon Kinesis Data Firehose Agent/1.0 (Riffle)',
      ...(gzipped ? { 'Content-Encoding': 'gzip' } : {}),
      ...(endpoint.AccessKey !== undefined ? { 'X-Amz-Firehose-Access-Key': endpoint.AccessKey } : {}),
      ...(request.CommonAttributes?.length
        ? { 'X-Amz-Firehose-Common-Attributes': JSON.stringify({ commonAttributes: Object.fromEntries(request.CommonAttributes.map((a) => [a.AttributeName, a.AttributeValue])) }) }
        : {}),
    };
    let response: Response;
    try {
      response = await fetch(endpoint.Url, { method: 'POST', headers, body: gzipped ? await gzipAsync(json) : json, signal: AbortSignal.timeout(RESPONSE_TIMEOUT_MS) });
    } catch (error) {
      throw new DeliveryFailure('HttpEndpoint.RequestTimeout', `The request to ${endpoint.Url} failed: ${(error as Error).message}`);
    }
    const body = await response.text().catch(() => '');
    if (response.status === 413) {
      throw new DeliveryFailure('HttpEndpoint.PayloadTooLarge', `The endpoint answered 413 Request Entity Too Large: ${body.slice(0, 200)}`, true);
    }
    if (response.status !== 200) {
      throw new DeliveryFailure('HttpEndpoint.ResponseReturnedErrorCode', `The endpoint answered HTTP ${response.status}: ${body.slice(0, 200)}`);
    }
    let answered: unknown;
    try {
      answered = JSON.parse(body);
    } catch {
      throw new DeliveryFailure('HttpEndpoint.InvalidResponseFromDestination', 'The response body is not JSON.');
    }
    if ((answered as { requestId?: unknown })?.requestId !== requestId) {
      throw new DeliveryFailure('HttpEndpoint.InvalidResponseFromDestination', `The response's requestId does not match ${requestId}.`);
    }
  }
}

export const httpEndpointDestination: DestinationSpec = {
  kind: 'HttpEndpoint',
  metricsName: 'HttpEndpoint',
  configurationMember: 'HttpEndpointDestinationConfiguration',
  updateMember: 'HttpEndpointDestinationUpdate',
  descriptionMember: 'HttpEndpointDestinationDescription',
  normalize: normalizeHttpEndpoint,
  merge: (current, update) => normalizeHttpEndpoint(mergeWithS3Update(current, update)),
  describe(config) {
    // Describe shows the endpoint without its access key, and the backup as an S3 description.
    const { EndpointConfiguration, ...rest } = config as { EndpointConfiguration: { Url: string; Name?: string } };
    return describeS3Backed({
      ...rest,
      EndpointConfiguration: { Url: EndpointConfiguration.Url, ...(EndpointConfiguration.Name !== undefined ? { Name: EndpointConfiguration.Name } : {}) },
    });
  },
  create: (config, context) => new HttpEndpointDestination(config as unknown as HttpEndpointConfiguration, context),
};
