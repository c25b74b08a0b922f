/**
 * The AWS SDK v3 Kinesis client pointed at a collector, and the few stream-level waits and reads
 * the end-to-end tests share. Waits poll the API with a bounded deadline: the collector changes
 * status on its own schedule, so polling is the synchronisation, never a fixed sleep.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetRecordsCommandOutput,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  type ChildShard,
  type Shard,
  type StreamDescriptionSummary,
  type StreamStatus,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export type Transport = 'http2' | 'http1';

export interface ClientOptions {
  /** `http2` is the SDK's default handler (cleartext HTTP/2 with prior knowledge); `http1` is NodeHttpHandler. */
  transport?: Transport;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** SDK attempts per call; 1 makes a transport failure surface at once instead of being retried. */
  maxAttempts?: number;
}

export function kinesisClient(endpoint: string, options: ClientOptions = {}): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: options.credentials ?? { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' },
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.transport === 'http1' ? { requestHandler: new NodeHttpHandler() } : {}),
  });
}

const POLL_INTERVAL_MS = 20;
const DEFAULT_WAIT_MS = 10_000;

async function poll<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Creates a provisioned stream and waits until it is ACTIVE. */
export async function createActiveStream(client: KinesisClient, streamName: string, shardCount = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  await waitForStreamStatus(client, streamName);
}

/** Polls DescribeStreamSummary until the stream reports `status`. */
export async function waitForStreamStatus(
  client: KinesisClient,
  streamName: string,
  status: StreamStatus = 'ACTIVE',
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<StreamDescriptionSummary> {
  return poll(
    `stream ${streamName} to be ${status}`,
    async () => {
      const { StreamDescriptionSummary: summary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      return summary?.StreamStatus === status ? summary : undefined;
    },
    timeoutMs,
  );
}

/**
 * Polls until the deletion finished: DescribeStreamSummary answers ResourceNotFoundException and
 * ListStreams (which shows DELETING streams) no longer lists the stream. Looks at one ListStreams
 * page (100 streams), more than any test creates.
 */
export async function waitForStreamGone(client: KinesisClient, streamName: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await poll(
    `stream ${streamName} to be deleted`,
    async () => {
      try {
        await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
        return undefined;
      } catch (error) {
        if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      }
      const { StreamNames } = await client.send(new ListStreamsCommand({}));
      return StreamNames?.includes(streamName) ? undefined : true;
    },
    timeoutMs,
  );
}

/** Every shard of the stream (open and closed), following ListShards' NextToken. */
export async function listAllShards(client: KinesisClient, streamName: string, pageSize?: number): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListShardsCommand(nextToken !== undefined ? { NextToken: nextToken, MaxResults: pageSize } : { StreamName: streamName, MaxResults: pageSize }),
    );
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return shards;
}

export interface ShardRead {
  records: _Record[];
  /** Present when the shard is closed and was read to its end. */
  childShards?: ChildShard[];
  /** The iterator to continue from; absent once a closed shard is read to its end. */
  nextIterator?: string;
  lastMillisBehindLatest?: number;
}

/**
 * Reads a shard with GetRecords from `iterator` until it is caught up (an empty page with
 * MillisBehindLatest 0) or closed (no NextShardIterator). `maxCalls` bounds the loop.
 */
export async function readFromIterator(client: KinesisClient, iterator: string, maxCalls = 1_000): Promise<ShardRead> {
  const read: ShardRead = { records: [] };
  let current: string | undefined = iterator;
  for (let calls = 0; current !== undefined; calls++) {
    if (calls >= maxCalls) throw new Error(`shard still had records after ${maxCalls} GetRecords calls`);
    const page: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: current }));
    const records = page.Records ?? [];
    read.records.push(...records);
    read.lastMillisBehindLatest = page.MillisBehindLatest;
    current = page.NextShardIterator;
    if (page.ChildShards && page.ChildShards.length > 0) read.childShards = page.ChildShards;
    if (current !== undefined && records.length === 0 && page.MillisBehindLatest === 0) {
      read.nextIterator = current;
      break;
    }
  }
  return read;
}

/** Reads a shard from TRIM_HORIZON to its current end (see `readFromIterator`). */
export async function readShard(client: KinesisClient, streamName: string, shardId: string): Promise<ShardRead> {
  const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
  if (ShardIterator === undefined) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
  return readFromIterator(client, ShardIterator);
}

/** The error a promise rejects with; fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
