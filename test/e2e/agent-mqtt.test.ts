/**
 * MQTT flows end to end: mosquitto as the device-local broker, `mosquitto_pub` publishing QoS 1
 * readings, the agent subscribed with a persistent session, the real collector behind it.
 * - Readings arrive, each with the partition key taken from its topic's second level.
 * - With `"aggregation": true` the stream holds KPL-aggregated records, and `aws-kinesis-agg`
 *   (awslabs' independent implementation) de-aggregates them into exactly what was published.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CreateStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { allArrived, describeDelivery, tallyDelivery } from '../helpers/delivery-tally.js';
import { kinesisClient, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { mosquittoMissing, publishLines, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { recordTexts, StreamReader, type StreamRecord } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// aws-kinesis-agg's own typings import aws-sdk v2 and aws-lambda types; the part used here, typed locally.
interface TheirUserRecord {
  partitionKey: string;
  data: string; // base64
}
interface AwsKinesisAgg {
  deaggregateSync(
    record: { partitionKey: string; sequenceNumber: string; data: string },
    computeChecksums: boolean,
    done: (error: Error | null, records?: TheirUserRecord[]) => void,
  ): void;
}
const awsKinesisAgg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg;
/** KPL aggregation format: records start with these four bytes (amazon-kinesis-producer aggregation-format.md). */
const KPL_MAGIC = Buffer.from('f3899ac2', 'hex');

const skipReason = mosquittoMissing();
if (skipReason) console.warn(`skipping the agent's MQTT tests: ${skipReason}`);

const clientId = 'riffle-e2e-agent';
const readings = { stream: 'readings', topicFilter: 'sensors/+/temperature', devices: ['dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5'], perDevice: 200 };
const meters = { stream: 'meters', topicFilter: 'meters/+/power', devices: ['meter-a', 'meter-b', 'meter-c'], perDevice: 300 };

let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
let broker: Mosquitto;
let agent: AgentProcess;

describe.skipIf(skipReason !== undefined)('agent MQTT flows', () => {
  beforeAll(async () => {
    dir = await makeTempDir('riffle-agent-mqtt-');
    [collector, broker] = await Promise.all([startCollector(join(dir.path, 'collector')), startMosquitto(dir.path)]);
    client = kinesisClient(collector.endpoint);
    await client.send(new CreateStreamCommand({ StreamName: readings.stream, ShardCount: 2 }));
    await client.send(new CreateStreamCommand({ StreamName: meters.stream, ShardCount: 1 }));
    await waitForStreamStatus(client, readings.stream);
    await waitForStreamStatus(client, meters.stream);
    const configFile = await writeAgentConfig(join(dir.path, 'agent.json'), {
      'kinesis.endpoint': collector.endpoint,
      mqtt: { url: broker.url, clientId },
      flows: [
        { mqtt: { topics: [readings.topicFilter], qos: 1, partitionKey: { topicLevel: 2 } }, kinesisStream: readings.stream, maxBufferAgeMillis: 1000 },
        { mqtt: { topics: [meters.topicFilter], qos: 1, partitionKey: { topicLevel: 2 } }, kinesisStream: meters.stream, maxBufferAgeMillis: 1000, aggregation: true },
      ],
    });
    agent = await startAgent({ configFile, stateDir: join(dir.path, 'state') });
    // Messages published before the subscription exists would not be queued for the agent.
    await broker.waitForSubscription(clientId, readings.topicFilter);
    await broker.waitForSubscription(clientId, meters.topicFilter);
  });

  afterAll(async () => {
    await agent?.kill();
    client?.destroy();
    await Promise.all([collector?.stop(), broker?.stop()]);
    await dir?.remove();
  });

  it('ships QoS 1 readings published with mosquitto_pub, keyed by the topic level', async () => {
    const published = new Map<string, string>(); // message → device (its topic's level 2)
    await Promise.all(
      readings.devices.map((device, d) => {
        const messages = Array.from({ length: readings.perDevice }, (_, seq) => JSON.stringify({ device, seq, celsius: 20 + ((seq * 7 + d) % 50) / 10 }));
        for (const message of messages) published.set(message, device);
        return publishLines(broker.port, `sensors/${device}/temperature`, messages, 1);
      }),
    );
    const expected = [...published.keys()];
    const reader = new StreamReader(client, readings.stream);
    await reader.waitForAll(`all ${expected.length} readings`, expected);

    const tally = tallyDelivery(expected, recordTexts(reader.records));
    expect(tally.missing).toEqual([]);
    expect(tally.unexpected).toEqual([]);
    // QoS 1 redelivers only what was not acknowledged; with a steady connection nothing is.
    expect(tally.duplicates).toBe(0);
    expect(reader.records.filter((record) => record.partitionKey !== published.get(record.data.toString()))).toEqual([]);
  });

  it('KPL-aggregates readings so that aws-kinesis-agg gets back every one, byte for byte', async () => {
    const published: Array<{ partitionKey: string; data: string }> = [];
    await Promise.all(
      meters.devices.map((device, d) => {
        const messages = Array.from({ length: meters.perDevice }, (_, seq) => JSON.stringify({ meter: device, seq, watts: (seq * 13 + d * 101) % 3000 }));
        published.push(...messages.map((message) => ({ partitionKey: device, data: Buffer.from(message).toString('hex') })));
        return publishLines(broker.port, `meters/${device}/power`, messages, 1);
      }),
    );
    const reader = new StreamReader(client, meters.stream);
    const userRecordsOf = (records: readonly StreamRecord[]) => records.flatMap(deaggregate);
    const expected = published.map((record) => JSON.stringify(record));
    const arrived = (records: readonly StreamRecord[]) => userRecordsOf(records).map((record) => JSON.stringify(record));
    await reader.waitFor(`all ${expected.length} readings`, (records) => allArrived(expected, arrived(records)), {
      describe: (records) => describeDelivery(expected, arrived(records)),
    });

    expect(tallyDelivery(expected, arrived(reader.records))).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    // Aggregated for real: fewer Kinesis records than readings, each in the KPL format.
    expect(reader.records.length).toBeLessThan(expected.length);
    expect(reader.records.filter((record) => !record.data.subarray(0, 4).equals(KPL_MAGIC))).toEqual([]);
  });
});

/** The user records in one Kinesis record, as aws-kinesis-agg reads them (checksums verified); data in hex. */
function deaggregate(record: StreamRecord): Array<{ partitionKey: string; data: string }> {
  let result: Array<{ partitionKey: string; data: string }> | undefined;
  awsKinesisAgg.deaggregateSync({ partitionKey: record.partitionKey, sequenceNumber: record.sequenceNumber, data: record.data.toString('base64') }, true, (error, userRecords) => {
    if (error) throw error;
    result = (userRecords ?? []).map((user) => ({ partitionKey: user.partitionKey, data: Buffer.from(user.data, 'base64').toString('hex') }));
  });
  if (!result) throw new Error('aws-kinesis-agg did not call back');
  return result;
}
