/**
 * Hosted functions (Lambda-style event source mappings) in the real collector process, configured
 * by its config file, fed by the AWS SDK: partial batch failure (ReportBatchItemFailures), bisect
 * on error, retries exhausted to an OnFailure bucket and an OnFailure stream (the latter with an
 * HTTP URL function), FilterCriteria, tumbling windows with state, and progress that survives a
 * restart. Module functions run in worker threads and log what they were given to a file.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { listLocalObjects } from '../helpers/firehose.js';
import { createActiveStream, kinesisClient, readShard } from '../helpers/kinesis-client.js';
import { pollUntil } from '../helpers/poll.js';
import { errorTypeOf, sendRaw } from '../helpers/raw-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const WAIT = { timeoutMs: 20_000, intervalMs: 50 };
/** Shard write limits off: the payload test puts 4.9 MB at once. */
const collectorArgs = () => ['--config', join(dir.path, 'collector.json'), '--shard-limits', 'off'];

interface Invocation {
  data: string[];
  sequenceNumbers: string[];
  state?: { total?: number };
  window?: { start: string; end: string };
  isFinalInvokeForWindow?: boolean;
  eventSourceARN?: string;
  shape?: Record<string, unknown>;
}

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
let httpFunction: http.Server;
const httpCalls: string[][] = [];

const logFile = (name: string) => join(dir.path, `${name}.log`);
/** The invocations logged so far; a line the function is still writing (no newline yet) is not one. */
const invocations = (name: string): Invocation[] =>
  existsSync(logFile(name))
    ? readFileSync(logFile(name), 'utf8')
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as Invocation)
    : [];

/** A function module that logs each invocation, then runs `body` (which sees `event`, `data` and `state`). */
function writeFunction(name: string, body: string): string {
  const path = join(dir.path, `${name}.mjs`);
  writeFileSync(
    path,
    `import { appendFileSync } from 'node:fs';
const decode = (r) => Buffer.from(r.kinesis.data, 'base64').toString();
const failedOnce = new Set();
export const handler = async (event, context) => {
  const data = event.Records.map(decode);
  appendFileSync(${JSON.stringify(logFile(name))}, JSON.stringify({ data, sequenceNumbers: event.Records.map((r) => r.kinesis.sequenceNumber),
    state: event.state, window: event.window, isFinalInvokeForWindow: event.isFinalInvokeForWindow, eventSourceARN: event.eventSourceARN,
    shape: event.Records[0] ? { ...event.Records[0], kinesis: Object.keys(event.Records[0].kinesis).sort() } : undefined }) + '\\n');
  ${body}
};
`,
  );
  return path;
}

async function put(stream: string, records: Array<{ data: string; partitionKey?: string }>): Promise<void> {
  const { FailedRecordCount } = await client.send(
    new PutRecordsCommand({ StreamName: stream, Records: records.map((r) => ({ PartitionKey: r.partitionKey ?? 'k', Data: Buffer.from(r.data) })) }),
  );
  expect(FailedRecordCount).toBe(0);
}

const succeeded = (name: string, failing: (inv: Invocation) => boolean) => invocations(name).filter((inv) => !failing(inv)).flatMap((inv) => inv.data);

describe('hosted functions', () => {
  beforeAll(async () => {
    dir = await makeTempDir();
    // An HTTP function: answers 500 while the batch holds "bad", else 200 with no body.
    httpFunction = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const data = (JSON.parse(body) as { Records: Array<{ kinesis: { data: string } }> }).Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());
        httpCalls.push(data);
        res.statusCode = data.includes('bad') ? 500 : 200;
        res.end(data.includes('bad') ? 'boom' : '');
      });
    });
    await new Promise<void>((resolve) => httpFunction.listen(0, '127.0.0.1', resolve));
    const functionsConfig = [
      {
        name: 'partial',
        streamName: 'partial',
        module: writeFunction('partial', `const failing = event.Records.find((r) => decode(r).startsWith('fail-once') && !failedOnce.has(decode(r)));
  if (failing) { failedOnce.add(decode(failing)); return { batchItemFailures: [{ itemIdentifier: failing.kinesis.sequenceNumber }] }; }
  return { batchItemFailures: [] };`),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
      {
        name: 'bisect',
        streamName: 'bisect',
        module: writeFunction('bisect', `if (data.includes('poison')) throw new Error('poisoned batch');`),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:s3:::failures' } },
      },
      {
        name: 'remote',
        streamName: 'remote',
        url: `http://127.0.0.1:${(httpFunction.address() as AddressInfo).port}/`,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 1,
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:kinesis:us-east-1:000000000000:stream/dlq' } },
      },
      {
        name: 'filtered',
        streamName: 'filtered',
        module: writeFunction('filtered', ''),
        StartingPosition: 'TRIM_HORIZON',
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ data: { kind: ['alert'], level: [{ numeric: ['>', 5] }] } }) }, { Pattern: JSON.stringify({ partitionKey: [{ prefix: 'vip-' }] }) }] },
      },
      {
        name: 'sandbox',
        streamName: 'sandbox',
        module: writeFunction('sandbox', `if (data.includes('hang')) await new Promise(() => undefined);`),
        timeoutSeconds: 1,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 1,
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:kinesis:us-east-1:000000000000:stream/sandbox-failures' } },
      },
      {
        // Its own mapping with a generous timeout: on a loaded machine the memory limit must be
        // what stops it, not the clock.
        name: 'hog',
        streamName: 'hog',
        module: writeFunction('hog', `if (data.includes('hog')) { const hoard = []; for (;;) hoard.push(new Array(100_000).fill({ data })); }`),
        timeoutSeconds: 60,
        memoryMB: 32,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 1,
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:kinesis:us-east-1:000000000000:stream/hog-failures' } },
      },
      {
        name: 'payload',
        streamName: 'payload',
        module: writeFunction('payload', ''),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        timeoutSeconds: 10,
      },
      {
        name: 'windows',
        streamName: 'windows',
        module: writeFunction('windows', `return { state: { total: (event.state.total ?? 0) + data.reduce((sum, d) => sum + Number(d), 0) } };`),
        StartingPosition: 'TRIM_HORIZON',
        TumblingWindowInSeconds: 1,
      },
    ];
    writeFileSync(join(dir.path, 'collector.json'), JSON.stringify({ functions: functionsConfig }));
    collector = await startCollector(join(dir.path, 'data'), collectorArgs());
    client = kinesisClient(collector.endpoint);
    for (const stream of ['partial', 'bisect', 'remote', 'dlq', 'filtered', 'sandbox', 'sandbox-failures', 'hog', 'hog-failures', 'payload', 'windows']) {
      await createActiveStream(client, stream);
    }
  });
  afterAll(async () => {
    client.destroy();
    await collector.stop();
    await new Promise((resolve) => httpFunction.close(resolve));
    await dir.remove();
  });

  it('retries a partial batch failure from the failed record on, with Lambda’s Kinesis event shape, and keeps its progress across a restart', async () => {
    const data = Array.from({ length: 8 }, (_, i) => (i === 4 ? 'fail-once-4' : `p${i}`));
    await put('partial', data.map((d) => ({ data: d })));
    await pollUntil('the batch retried and done', () => invocations('partial').length >= 2 && invocations('partial').flatMap((i) => i.data).filter((d) => d === 'p7').length === 2, WAIT);
    const [first, second] = invocations('partial');
    expect(first!.data).toEqual(data);
    expect(second!.data).toEqual(data.slice(4));
    expect(first!.shape).toMatchObject({
      kinesis: ['approximateArrivalTimestamp', 'data', 'kinesisSchemaVersion', 'partitionKey', 'sequenceNumber'],
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventName: 'aws:kinesis:record',
      eventID: `shardId-000000000000:${first!.sequenceNumbers[0]}`,
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/partial',
    });

    // The checkpoint is in the metadata store: after a restart only new records are delivered.
    client.destroy();
    expect(await collector.stop()).toBe(0);
    collector = await startCollector(join(dir.path, 'data'), collectorArgs());
    client = kinesisClient(collector.endpoint);
    await put('partial', [{ data: 'after-restart' }]);
    await pollUntil('the new record delivered', () => invocations('partial').some((i) => i.data.includes('after-restart')), WAIT);
    expect(invocations('partial').slice(2).map((i) => i.data)).toEqual([['after-restart']]);
  });

  it('bisects a failing batch down to the poison record and sends only it to the OnFailure bucket', async () => {
    const data = Array.from({ length: 8 }, (_, i) => (i === 5 ? 'poison' : `b${i}`));
    await put('bisect', data.map((d) => ({ data: d })));
    const failureObjects = () => listLocalObjects(join(dir.path, 'data'), 'failures');
    await pollUntil('a failure record in the bucket', async () => (await failureObjects()).length === 1, WAIT);
    await pollUntil('every other record processed', () => data.filter((d) => d !== 'poison').every((d) => succeeded('bisect', (i) => i.data.includes('poison')).includes(d)), WAIT);
    const { key, body } = (await failureObjects())[0]!;
    expect(key).toMatch(/^aws\/lambda\/bisect\/shardId-000000000000\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$/);
    const failure = JSON.parse(body.toString('utf8')) as Record<string, any>;
    const poisonSequence = invocations('bisect').find((i) => i.data.length === 1 && i.data[0] === 'poison')!.sequenceNumbers[0];
    expect(failure).toMatchObject({
      requestContext: { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bisect', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      KinesisBatchInfo: { shardId: 'shardId-000000000000', startSequenceNumber: poisonSequence, endSequenceNumber: poisonSequence, batchSize: 1, streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/bisect' },
    });
    expect(failure.payload.Records.map((r: any) => Buffer.from(r.kinesis.data, 'base64').toString())).toEqual(['poison']);
  });

  it('sends a batch whose retries ran out to the OnFailure stream and moves on (HTTP URL function)', async () => {
    await put('remote', [{ data: 'bad' }, { data: 'good' }]);
    await pollUntil('the good record delivered', () => httpCalls.some((c) => c.includes('good')), WAIT);
    // MaximumRetryAttempts 2: one invocation and two retries.
    expect(httpCalls.filter((c) => c.includes('bad'))).toHaveLength(3);
    const dlq = await pollUntil('the failure record in dlq', async () => {
      const { records } = await readShard(client, 'dlq', 'shardId-000000000000');
      return records.length > 0 ? records : undefined;
    }, WAIT);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.PartitionKey).toBe('shardId-000000000000');
    const failure = JSON.parse(Buffer.from(dlq[0]!.Data!).toString()) as Record<string, any>;
    expect(failure.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:remote' });
    expect(failure.KinesisBatchInfo).toMatchObject({ batchSize: 1, streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/remote' });
    expect(failure).not.toHaveProperty('payload');
  });

  it('invokes only with records that match a filter', async () => {
    await put('filtered', [
      { data: JSON.stringify({ kind: 'alert', level: 7 }) },
      { data: JSON.stringify({ kind: 'alert', level: 2 }) },
      { data: JSON.stringify({ kind: 'info', level: 9 }) },
      { data: 'plain text', partitionKey: 'vip-1' },
      { data: 'plain text too', partitionKey: 'regular' },
      { data: 'last', partitionKey: 'vip-2' },
    ]);
    await pollUntil('the last matching record delivered', () => invocations('filtered').some((i) => i.data.includes('last')), WAIT);
    expect(invocations('filtered').flatMap((i) => i.data)).toEqual([JSON.stringify({ kind: 'alert', level: 7 }), 'plain text', 'last']);
  });

  it.each([
    ['sandbox', 'hang', 'Sandbox.Timedout'],
    ['hog', 'hog', 'Runtime.ExitError'],
  ])('kills %s when it overruns its limit (%s) and carries on with the next records', async (mapping, trigger, errorType) => {
    await put(mapping, [{ data: trigger }, { data: 'fine' }]);
    await pollUntil('the record after it delivered', () => invocations(mapping).some((i) => i.data.includes('fine')), WAIT);
    const { records } = await readShard(client, `${mapping}-failures`, 'shardId-000000000000');
    const failures = records.map((r) => JSON.parse(Buffer.from(r.Data!).toString()) as Record<string, any>);
    expect(failures.map((f) => f.KinesisBatchInfo.startSequenceNumber)).toEqual(invocations(mapping).slice(0, 1).map((i) => i.sequenceNumbers[0]));
    expect(failures.every((f) => f.requestContext.condition === 'RetryAttemptsExhausted')).toBe(true);
    expect(collector.logs.filter((l) => l.event === 'function_failed' && l.mapping === mapping).map((l) => l.errorType)).toEqual([errorType]);
  });

  it('creates, lists and deletes mappings through the RiffleFunctions API, durably', async () => {
    await createActiveStream(client, 'managed');
    const entry = { name: 'managed', streamName: 'managed', module: writeFunction('managed', ''), StartingPosition: 'TRIM_HORIZON' };
    const created = await functionsApi('CreateEventSourceMapping', entry);
    expect(created.status).toBe(200);
    expect(created.output.EventSourceMapping).toMatchObject({ Name: 'managed', StreamName: 'managed', BatchSize: 100, State: 'Enabled', Origin: 'api' });
    expect((await functionsApi('CreateEventSourceMapping', entry)).errorType).toBe('ResourceInUseException');
    expect((await functionsApi('CreateEventSourceMapping', { ...entry, name: 'broken', BatchSize: 0 })).errorType).toBe('ValidationException');
    await put('managed', [{ data: 'via-api' }]);
    await pollUntil('the API mapping invoked', () => invocations('managed').some((i) => i.data.includes('via-api')), WAIT);

    // It survives a restart, beside the config file's mappings.
    client.destroy();
    expect(await collector.stop()).toBe(0);
    collector = await startCollector(join(dir.path, 'data'), collectorArgs());
    client = kinesisClient(collector.endpoint);
    const listed = (await functionsApi('ListEventSourceMappings', {})).output.EventSourceMappings as Array<{ Name: string; Origin: string }>;
    expect(listed.map((m) => [m.Name, m.Origin])).toContainEqual(['managed', 'api']);
    expect(listed.map((m) => [m.Name, m.Origin])).toContainEqual(['partial', 'config']);
    await put('managed', [{ data: 'after-restart' }]);
    await pollUntil('the API mapping invoked after the restart', () => invocations('managed').some((i) => i.data.includes('after-restart')), WAIT);

    expect((await functionsApi('DeleteEventSourceMapping', { Name: 'partial' })).errorType).toBe('ResourceInUseException');
    expect((await functionsApi('DeleteEventSourceMapping', { Name: 'managed' })).status).toBe(200);
    expect((await functionsApi('DeleteEventSourceMapping', { Name: 'managed' })).errorType).toBe('ResourceNotFoundException');
    expect(((await functionsApi('ListEventSourceMappings', {})).output.EventSourceMappings as Array<{ Name: string }>).map((m) => m.Name)).not.toContain('managed');
  });

  it('keeps an invocation under Lambda’s 6 MB payload, splitting a batch that would exceed it', async () => {
    const data = Array.from({ length: 7 }, (_, i) => String(i).repeat(700_000));
    await put('payload', data.map((d) => ({ data: d })));
    await pollUntil('all large records delivered', () => invocations('payload').flatMap((i) => i.data).length === 7, WAIT);
    const sizes = invocations('payload').map((i) => i.data.length);
    // 700 KB is about 934 KB in base64: six fit in 6 MiB, seven do not.
    expect(Math.max(...sizes)).toBe(6);
    expect(invocations('payload').flatMap((i) => i.data.map((d) => d[0]))).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('carries state through a tumbling window and closes it with a final invocation', async () => {
    await put('windows', [1, 2, 3].map((n) => ({ data: String(n) })));
    await pollUntil('a window closed', () => invocations('windows').some((i) => i.isFinalInvokeForWindow), WAIT);
    await put('windows', [10, 20].map((n) => ({ data: String(n) })));
    await pollUntil('two windows closed', () => invocations('windows').filter((i) => i.isFinalInvokeForWindow).length === 2, WAIT);
    const all = invocations('windows');
    const finals = all.filter((i) => i.isFinalInvokeForWindow);
    for (const final of finals) {
      expect(final.data).toEqual([]);
      expect(Date.parse(final.window!.end) - Date.parse(final.window!.start)).toBe(1000);
      // The final invocation sees the window's total: its records' values, summed by the state.
      const windowRecords = all.filter((i) => !i.isFinalInvokeForWindow && i.window!.start === final.window!.start).flatMap((i) => i.data);
      expect(final.state!.total).toBe(windowRecords.reduce((sum, d) => sum + Number(d), 0));
    }
    expect(finals.reduce((sum, f) => sum + f.state!.total!, 0)).toBe(36);
    expect(all[0]!.eventSourceARN).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/windows');
  });
});

/** A RiffleFunctions_20250101 call (the collector runs open). */
async function functionsApi(operation: string, body: object): Promise<{ status: number; output: any; errorType: string | undefined }> {
  const response = await sendRaw(collector.port, {
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `RiffleFunctions_20250101.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, output: JSON.parse(response.body.toString() || '{}'), errorType: errorTypeOf(response) };
}
