/**
 * Processing through the real collector and @aws-sdk/client-firehose: Lambda transforms with the
 * Firehose contract (a local module in a worker thread, and an HTTP URL served by this test),
 * Ok / Dropped / ProcessingFailed, a function that breaks the contract, dynamic partitioning by
 * partitionKeyFromLambda and by a jq MetadataExtraction query, and KPL de-aggregation.
 */
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateDeliveryStreamCommand, type ExtendedS3DestinationConfiguration, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate } from '../../shared/kpl-aggregation.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus, type LocalObject } from '../helpers/firehose.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dataDir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: FirehoseClient;
let transformServer: Server;
const seenEvents: Array<Record<string, any>> = [];

const roleArn = 'arn:aws:iam::000000000000:role/firehose';
const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

// The module a LambdaArn names lives in <data-dir>/functions/<name>.mjs.
const upperModule = `
export async function handler(event) {
  return {
    records: event.records.map((record) => {
      const text = Buffer.from(record.data, 'base64').toString();
      if (text.includes('drop')) return { recordId: record.recordId, result: 'Dropped' };
      if (text.includes('fail')) return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
      const { device } = JSON.parse(text);
      return { recordId: record.recordId, result: 'Ok', data: Buffer.from(text.toUpperCase() + '\\n').toString('base64'), metadata: { partitionKeys: { device } } };
    }),
  };
}`;
const forgetfulModule = `export const handler = async (event) => ({ records: event.records.slice(1).map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })) });`;

async function createStream(name: string, s3: Partial<ExtendedS3DestinationConfiguration>): Promise<void> {
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${name}`, RoleARN: roleArn, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 }, ...s3 },
    }),
  );
  await waitForDeliveryStreamStatus(client, name);
}

async function put(name: string, records: Array<string | Buffer>): Promise<void> {
  const result = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: records.map((data) => ({ Data: Buffer.from(data) })) }));
  expect(result.FailedPutCount).toBe(0);
}

function objectsWhere(bucket: string, done: (objects: LocalObject[]) => boolean): Promise<LocalObject[]> {
  return pollUntil(`objects in ${bucket}`, async () => {
    const objects = await listLocalObjects(dataDir.path, bucket);
    return done(objects) ? objects : undefined;
  }, { describe: async () => JSON.stringify((await listLocalObjects(dataDir.path, bucket)).map((object) => object.key)) });
}

const errorRecords = (object: LocalObject) => object.body.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

beforeAll(async () => {
  dataDir = await makeTempDir('riffle-e2e-firehose-processing-');
  mkdirSync(join(dataDir.path, 'functions'));
  writeFileSync(join(dataDir.path, 'functions', 'upper.mjs'), upperModule);
  writeFileSync(join(dataDir.path, 'functions', 'forgetful.mjs'), forgetfulModule);
  transformServer = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const event = JSON.parse(body) as Record<string, any>;
      seenEvents.push(event);
      const records = event.records.map((record: { recordId: string; data: string }) => ({
        recordId: record.recordId,
        result: 'Ok',
        data: Buffer.from(`${[...Buffer.from(record.data, 'base64').toString()].reverse().join('')}\n`).toString('base64'),
      }));
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ records }));
    });
  });
  transformServer.listen(0, '127.0.0.1');
  await once(transformServer, 'listening');
  collector = await startCollector(dataDir.path);
  client = firehoseClient(collector.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await collector?.stop();
  transformServer?.close();
  await dataDir?.remove();
});

describe('Lambda transforms', () => {
  it('runs a local module: Ok records transformed and partitioned by its keys, Dropped gone, ProcessingFailed to the error output', async () => {
    await createStream('lambda-local', {
      Prefix: 'device=!{partitionKeyFromLambda:device}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/',
      DynamicPartitioningConfiguration: { Enabled: true },
      ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'Lambda', Parameters: [{ ParameterName: 'LambdaArn', ParameterValue: lambdaArn('upper') }] }] },
    });
    await put('lambda-local', ['{"device":"a","v":1}', '{"device":"b","v":2}', '{"device":"a","v":"drop"}', '{"device":"b","v":"fail"}', '{"device":"a","v":3}', '{"v":"no device"}']);
    const objects = await objectsWhere('lambda-local', (all) => all.length >= 4);
    const byPrefix = (prefix: string) => objects.filter((object) => object.key.startsWith(prefix)).map((object) => object.body.toString()).join('');
    expect(byPrefix('device=a/')).toBe('{"DEVICE":"A","V":1}\n{"DEVICE":"A","V":3}\n');
    expect(byPrefix('device=b/')).toBe('{"DEVICE":"B","V":2}\n');
    const failures = objects.filter((object) => object.key.startsWith('errors/processing-failed/')).flatMap(errorRecords);
    const transformFailure = failures.find((record) => record.errorCode === 'Lambda.ProcessingFailed')!;
    expect(transformFailure).toMatchObject({ lambdaArn: lambdaArn('upper'), attemptsMade: 1 });
    expect(Buffer.from(transformFailure.rawData, 'base64').toString()).toBe('{"device":"b","v":"fail"}');
    // A record without the partition key the prefix needs cannot be placed: it goes to the error output, and delivery goes on.
    const unplaced = failures.find((record) => record.errorCode === 'DynamicPartitioning.PartitionKeyMissing')!;
    expect(Buffer.from(unplaced.rawData, 'base64').toString()).toBe('{"V":"NO DEVICE"}\n');
  });

  it('POSTs the Firehose event to an HTTP URL and delivers what it answers', async () => {
    const url = `http://127.0.0.1:${(transformServer.address() as AddressInfo).port}/transform`;
    await createStream('lambda-http', {
      ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'Lambda', Parameters: [{ ParameterName: 'LambdaArn', ParameterValue: url }] }] },
    });
    await put('lambda-http', ['abc', 'xyz']);
    const objects = await objectsWhere('lambda-http', (all) => all.length >= 1);
    expect(objects.map((object) => object.body.toString()).join('')).toBe('cba\nzyx\n');
    const event = seenEvents.find((candidate) => candidate.deliveryStreamArn.endsWith('/lambda-http'))!;
    expect(Object.keys(event).sort()).toEqual(['deliveryStreamArn', 'invocationId', 'records', 'region']);
    expect(event.region).toBe('us-east-1');
    expect(Object.keys(event.records[0]).sort()).toEqual(['approximateArrivalTimestamp', 'data', 'recordId']);
    expect(Math.abs(event.records[0].approximateArrivalTimestamp - Date.now())).toBeLessThan(60_000);
  });

  it('fails every record of an invocation that breaks the contract, after the retries', async () => {
    await createStream('lambda-broken', {
      ProcessingConfiguration: {
        Enabled: true,
        Processors: [{ Type: 'Lambda', Parameters: [{ ParameterName: 'LambdaArn', ParameterValue: lambdaArn('forgetful') }, { ParameterName: 'NumberOfRetries', ParameterValue: '1' }] }],
      },
    });
    await put('lambda-broken', ['one', 'two']);
    const [failed] = await objectsWhere('lambda-broken', (all) => all.length >= 1);
    expect(failed!.key).toMatch(/^processing-failed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/lambda-broken-1-/);
    const records = errorRecords(failed!);
    expect(records.map((record) => Buffer.from(record.rawData, 'base64').toString())).toEqual(['one', 'two']);
    expect(records[0]).toMatchObject({ errorCode: 'Lambda.MissingRecordId', attemptsMade: 2 });
  });
});

describe('dynamic partitioning and de-aggregation', () => {
  it('partitions by a jq MetadataExtraction query over KPL-aggregated records', async () => {
    await createStream('jq-partitions', {
      Prefix: 'customer=!{partitionKeyFromQuery:customer}/year=!{timestamp:yyyy}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/',
      DynamicPartitioningConfiguration: { Enabled: true },
      ProcessingConfiguration: {
        Enabled: true,
        Processors: [
          { Type: 'MetadataExtraction', Parameters: [{ ParameterName: 'MetadataExtractionQuery', ParameterValue: '{customer: .customer.id}' }, { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' }] },
          { Type: 'RecordDeAggregation', Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'KPL' }] },
          { Type: 'AppendDelimiterToRecord' },
        ],
      },
    });
    const users = ['{"customer":{"id":"c1"},"n":1}', '{"customer":{"id":"c2"},"n":2}', '{"customer":{"id":"c1"},"n":3}'];
    const aggregated = aggregate(users.map((data) => ({ partitionKey: 'k', data: Buffer.from(data) })));
    await put('jq-partitions', [aggregated, 'not json']);
    const objects = await objectsWhere('jq-partitions', (all) => all.length >= 3);
    const year = new Date().getUTCFullYear();
    const at = (prefix: string) => objects.filter((object) => object.key.startsWith(prefix)).map((object) => object.body.toString()).join('');
    expect(at(`customer=c1/year=${year}/`)).toBe(`${users[0]}\n${users[2]}\n`);
    expect(at(`customer=c2/year=${year}/`)).toBe(`${users[1]}\n`);
    const [failure] = errorRecords(objects.find((object) => object.key.startsWith('errors/processing-failed/'))!);
    expect(failure).toMatchObject({ errorCode: 'DynamicPartitioning.MetadataExtractionFailed' });
    expect(Buffer.from(failure!.rawData, 'base64').toString()).toBe('not json');
  });
});
