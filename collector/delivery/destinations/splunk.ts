/**
 * Splunk destination through the HTTP Event Collector (HEC): one POST per batch to
 * `<HECEndpoint>/services/collector/raw` (HECEndpointType Raw: the records' bytes as they are)
 * or `/services/collector/event` (Event: records that are already HEC event JSON, concatenated),
 * with `Authorization: Splunk <HECToken>` and an `X-Splunk-Request-Channel`.
 *
 * Indexer acknowledgement: when HEC answers with an `ackId`, the batch counts as delivered only
 * once `/services/collector/ack` reports it true; if that takes longer than
 * HECAcknowledgmentTimeoutInSeconds the attempt failed and the batch is retried. Retries last
 * RetryOptions.DurationInSeconds (default 3,600 s), then the batch goes to the S3 backup as
 * `splunk-failed`. S3BackupMode AllEvents also backs up every batch.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../../shared/errors.js';
import { bufferingOf, normalizeBufferingHints, type BufferingLimits, type WireBufferingHints } from '../buffering.js';
import { DeliveryFailure, mergeWithS3Update, type DeliveryRecord, type DestinationContext, type DestinationSpec } from './destination.js';
import { describeS3Backed, normalizeS3Backed, S3BackedDestination, type S3BackedConfiguration } from './s3-backed.js';

interface SplunkConfiguration extends S3BackedConfiguration {
  HECEndpoint: string;
  HECEndpointType: 'Raw' | 'Event';
  HECToken?: string;
  HECAcknowledgmentTimeoutInSeconds: number;
  BufferingHints: Required<WireBufferingHints>;
  S3BackupMode: 'FailedEventsOnly' | 'AllEvents';
}

// SplunkBufferingHints: 1–5 MiB (default 5), 0–60 s (default 60).
const splunkBufferingLimits: BufferingLimits = { sizeMiB: { min: 1, max: 5, default: 5 }, intervalSeconds: { min: 0, max: 60, default: 60 } };
// HECAcknowledgmentTimeoutInSeconds default 180; SplunkRetryOptions default 3,600 s (Firehose API reference).
const DEFAULT_ACK_TIMEOUT_SECONDS = 180;
const DEFAULT_RETRY_SECONDS = 3600;
const ACK_POLL_MS = 200;

function normalizeSplunk(raw: Record<string, unknown>): Record<string, unknown> {
  const config = raw as Partial<SplunkConfiguration> & { BufferingHints?: WireBufferingHints };
  if (!config.HECEndpoint) throw new AwsError('InvalidArgumentException', 'HECEndpoint is required.');
  if (!/^https?:\/\//.test(config.HECEndpoint)) throw new AwsError('InvalidArgumentException', `HECEndpoint ${config.HECEndpoint} is not an http(s) URL.`);
  const shared = normalizeS3Backed(config, { retrySeconds: DEFAULT_RETRY_SECONDS, backupMode: 'FailedEventsOnly' });
  return {
    ...config,
    HECAcknowledgmentTimeoutInSeconds: config.HECAcknowledgmentTimeoutInSeconds ?? DEFAULT_ACK_TIMEOUT_SECONDS,
    BufferingHints: normalizeBufferingHints(config.BufferingHints, splunkBufferingLimits, 'Splunk'),
    ...shared,
  };
}

class SplunkDestination extends S3BackedDestination {
  readonly deliveryErrorType = 'splunk-failed';
  private readonly channel = randomUUID();

  constructor(
    private readonly config: SplunkConfiguration,
    context: DestinationContext,
  ) {
    super(config, bufferingOf(config.BufferingHints), context);
  }

  private url(path: string): string {
    return new URL(path, this.config.HECEndpoint.replace(/\/?$/, '/')).toString();
  }

  private async call(path: string, body: string | Buffer): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        method: 'POST',
        headers: {
          ...(this.config.HECToken ? { Authorization: `Splunk ${this.config.HECToken}` } : {}),
          'X-Splunk-Request-Channel': this.channel,
          'Content-Type': 'application/json',
        },
        body,
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new DeliveryFailure('Splunk.ConnectionTimeout', `The request to HEC failed: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let answer: Record<string, unknown> = {};
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below with the status
    }
    if (!response.ok || (answer.code !== undefined && answer.code !== 0)) {
      throw new DeliveryFailure(`Splunk.${response.status === 403 || response.status === 401 ? 'InvalidToken' : 'ServerError'}`, `HEC answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return answer;
  }

  async deliver(records: readonly DeliveryRecord[]): Promise<void> {
    const path = this.config.HECEndpointType === 'Raw' ? 'services/collector/raw' : 'services/collector/event';
    const answer = await this.call(path, Buffer.concat(records.map((record) => record.data)));
    if (typeof answer.ackId === 'number') await this.awaitAck(answer.ackId);
    if (this.config.S3BackupMode === 'AllEvents') await this.s3.deliver(records);
  }

  /** Polls HEC's ack endpoint until the indexers confirm the batch or the acknowledgement timeout passes. */
  private async awaitAck(ackId: number): Promise<void> {
    const deadline = Date.now() + this.config.HECAcknowledgmentTimeoutInSeconds * 1000;
    for (;;) {
      const answer = await this.call(`services/collector/ack?channel=${this.channel}`, JSON.stringify({ acks: [ackId] }));
      if ((answer.acks as Record<string, boolean> | undefined)?.[String(ackId)] === true) return;
      if (Date.now() >= deadline) throw new DeliveryFailure('Splunk.AckTimeout', `HEC did not acknowledge ackId ${ackId} within ${this.config.HECAcknowledgmentTimeoutInSeconds} s.`);
      await new Promise((resolve) => setTimeout(resolve, ACK_POLL_MS));
    }
  }
}

export const splunkDestination: DestinationSpec = {
  kind: 'Splunk',
  metricsName: 'Splunk',
  configurationMember: 'SplunkDestinationConfiguration',
  updateMember: 'SplunkDestinationUpdate',
  descriptionMember: 'SplunkDestinationDescription',
  normalize: normalizeSplunk,
  merge: (current, update) => normalizeSplunk(mergeWithS3Update(current, update)),
  describe: describeS3Backed,
  create: (config, context) => new SplunkDestination(config as unknown as SplunkConfiguration, context),
};
