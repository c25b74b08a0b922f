/**
 * The calls the consumer library makes to a collector: Kinesis reads (ListShards, GetShardIterator,
 * GetRecords) and the Riffle-only lease operations (`RiffleLeases_20250101.*`, see
 * collector/api/riffle-leases/). One AWS JSON 1.1 client (shared/aws-client.ts: SigV4, keep-alive,
 * timeouts), failures thrown as ConsumerApiError with the AWS `__type` as code.
 */
import { AwsJsonClient } from '../aws-client.js';
import { encodeAwsBody } from '../aws-wire.js';
import { systemClock } from '../clock.js';

export interface ConnectionOptions {
  /** The collector, e.g. `http://collector.lan:4567`. */
  endpoint: string;
  /** Region requests are signed for. Default `us-east-1`. */
  region?: string;
  /**
   * SigV4 keys. Absent: the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
   * `AWS_SESSION_TOKEN`), then the shared credentials file (`~/.aws/credentials`, `AWS_PROFILE`) —
   * the agent's chain, see shared/aws-credentials.ts. A worker resolves them once and signs every
   * call with them, lease calls, GetRecords and SubscribeToShard alike. With none anywhere,
   * requests go unsigned (a loopback collector may run open); an AWS endpoint fails at start.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export class ConsumerApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The same call may succeed later (throttling, network, 5xx). */
    readonly retryable: boolean,
    readonly throttled: boolean,
  ) {
    super(`${code}: ${message}`);
    this.name = code;
  }
}

/** A lease as ListLeases / CreateLease / UpdateLease answer it. */
export interface WireLease {
  ShardId: string;
  LeaseOwner?: string;
  LeaseCounter: number;
  Checkpoint?: string;
  ParentShardIds: string[];
  MillisSinceUpdate: number;
}

export interface WireShard {
  ShardId: string;
  ParentShardId?: string;
  AdjacentParentShardId?: string;
}

export interface WireRecord {
  SequenceNumber: string;
  ApproximateArrivalTimestamp: number;
  Data: string;
  PartitionKey: string;
}

export interface WireGetRecordsOutput {
  Records: WireRecord[];
  NextShardIterator?: string;
  MillisBehindLatest: number;
  ChildShards?: Array<{ ShardId: string; ParentShards: string[] }>;
}

const LEASES = 'RiffleLeases_20250101.';
const KINESIS = 'Kinesis_20131202.';

export class ConsumerApi {
  private readonly client: AwsJsonClient;

  constructor(readonly connection: ConnectionOptions) {
    this.client = new AwsJsonClient(
      'kinesis',
      { endpoint: connection.endpoint, region: connection.region ?? 'us-east-1', compression: 'none', ...(connection.credentials ? { credentials: connection.credentials } : {}) },
      { clock: systemClock, env: connection.credentials ? {} : process.env },
    );
  }

  /** The collector's URL as the client parsed and checked it. */
  get endpoint(): URL {
    return this.client.endpoint;
  }

  /** SigV4 headers for SubscribeToShard, which does not go through call(): see AwsJsonClient.signatureFor. */
  signatureFor(headers: Record<string, string>, body: Buffer): Record<string, string> {
    return this.client.signatureFor(headers, body);
  }

  async call<Output>(target: string, input: Record<string, unknown>): Promise<Output> {
    const result = await this.client.call(target, encodeAwsBody(input, 'json'));
    if (result.ok) return result.output as Output;
    const { failure } = result;
    throw new ConsumerApiError(failure.code, failure.message, failure.kind === 'retry', failure.kind === 'retry' && failure.throttled);
  }

  async listShards(streamName: string): Promise<WireShard[]> {
    const shards: WireShard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call<{ Shards: WireShard[]; NextToken?: string }>(`${KINESIS}ListShards`, nextToken ? { NextToken: nextToken } : { StreamName: streamName });
      shards.push(...page.Shards);
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return shards;
  }

  async shardIterator(streamName: string, shardId: string, type: string, sequenceNumber?: string): Promise<string> {
    const output = await this.call<{ ShardIterator: string }>(`${KINESIS}GetShardIterator`, {
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: type,
      ...(sequenceNumber !== undefined ? { StartingSequenceNumber: sequenceNumber } : {}),
    });
    return output.ShardIterator;
  }

  getRecords(iterator: string, limit: number): Promise<WireGetRecordsOutput> {
    return this.call(`${KINESIS}GetRecords`, { ShardIterator: iterator, Limit: limit });
  }

  /**
   * The ARN of the enhanced fan-out consumer `consumerName` on the stream, registering it if needed
   * and waiting (bounded) until it is ACTIVE.
   */
  async activeStreamConsumer(streamName: string, consumerName: string, timeoutMs = 60_000): Promise<string> {
    const { StreamDescriptionSummary: summary } = await this.call<{ StreamDescriptionSummary: { StreamARN: string } }>(`${KINESIS}DescribeStreamSummary`, { StreamName: streamName });
    try {
      await this.call(`${KINESIS}RegisterStreamConsumer`, { StreamARN: summary.StreamARN, ConsumerName: consumerName });
    } catch (error) {
      if (!(error instanceof ConsumerApiError && error.code === 'ResourceInUseException')) throw error;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { ConsumerDescription: consumer } = await this.call<{ ConsumerDescription: { ConsumerARN: string; ConsumerStatus: string } }>(`${KINESIS}DescribeStreamConsumer`, {
        StreamARN: summary.StreamARN,
        ConsumerName: consumerName,
      });
      if (consumer.ConsumerStatus === 'ACTIVE') return consumer.ConsumerARN;
      if (Date.now() > deadline) throw new ConsumerApiError('ResourceInUseException', `consumer ${consumerName} not ACTIVE after ${timeoutMs} ms`, true, false);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async listLeases(applicationName: string, streamName: string): Promise<WireLease[]> {
    return (await this.call<{ Leases: WireLease[] }>(`${LEASES}ListLeases`, { ApplicationName: applicationName, StreamName: streamName })).Leases;
  }

  async createLease(applicationName: string, streamName: string, shardId: string, parentShardIds: string[]): Promise<WireLease> {
    return (await this.call<{ Lease: WireLease }>(`${LEASES}CreateLease`, { ApplicationName: applicationName, StreamName: streamName, ShardId: shardId, ParentShardIds: parentShardIds })).Lease;
  }

  /** ConsumerApiError `ConditionalCheckFailedException` when the counter moved on. */
  async updateLease(
    applicationName: string,
    streamName: string,
    shardId: string,
    expectedCounter: number,
    change: { owner?: string; release?: boolean; checkpoint?: string },
  ): Promise<WireLease> {
    const output = await this.call<{ Lease: WireLease }>(`${LEASES}UpdateLease`, {
      ApplicationName: applicationName,
      StreamName: streamName,
      ShardId: shardId,
      ExpectedLeaseCounter: expectedCounter,
      ...(change.owner !== undefined ? { LeaseOwner: change.owner } : {}),
      ...(change.release ? { ReleaseLease: true } : {}),
      ...(change.checkpoint !== undefined ? { Checkpoint: change.checkpoint } : {}),
    });
    return output.Lease;
  }

  close(): void {
    this.client.close();
  }
}
