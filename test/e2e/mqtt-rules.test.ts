/**
 * Topic rules through the real collector: devices publish with mosquitto_pub and mqtt.js, the
 * rules put into Kinesis streams (read back with the AWS SDK), republish, or fail into the error
 * action; the rules API changes them at run time; a throttled stream backs messages up without
 * losing any that were acknowledged, also across a SIGKILL.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { CreateStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { firehoseClient, listLocalObjects, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { kinesisClient, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { readMetric } from '../helpers/metrics.js';
import { mosquittoMissing, mosquittoPubBinary, runMosquittoClient, startMosquittoSub } from '../helpers/mosquitto.js';
import { pollUntil } from '../helpers/poll.js';
import { RawMqttClient } from '../helpers/raw-mqtt.js';
import { StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const skipReason = mosquittoMissing();
if (skipReason) console.warn(`skipping the MQTT rules tests: ${skipReason}`);

const errorAction = { kinesis: { streamName: 'rule-errors', partitionKey: '${clientid()}' } };
const rules = [
  { name: 'telemetry', topicFilter: 'sensors/+/telemetry', actions: [{ kinesis: { streamName: 'telemetry', partitionKey: '${topic(2)}' } }], errorAction },
  { name: 'hot', topicFilter: 'sensors/+/telemetry', condition: [{ field: 'temperature', op: '>', value: 30 }], actions: [{ republish: { topic: 'alerts/${topic(2)}', qos: 1 } }], errorAction },
  { name: 'meters', topicFilter: 'meters/+/reading', actions: [{ kinesis: { streamName: 'meters', partitionKey: '${meter.id}' } }], errorAction },
  { name: 'archive', topicFilter: 'archive/#', actions: [{ firehose: { deliveryStreamName: 'archive', separator: '\n' } }], errorAction },
  { name: 'logs', topicFilter: 'logs/#', actions: [{ firehose: { deliveryStreamName: 'logs', separator: '\n' } }], errorAction },
  { name: 'ghost', topicFilter: 'ghost/#', actions: [{ kinesis: { streamName: 'no-such-stream', partitionKey: 'x' } }], errorAction },
];

interface ErrorReport {
  ruleName: string;
  topic: string;
  clientId: string;
  errorCode: string;
  base64OriginalPayload: string;
}

let dir: { path: string; remove: () => Promise<void> };
let configFile: string;
let collector: CollectorProcess;
let client: KinesisClient;
let errors: StreamReader;

function pub(topic: string, message: string, qos: 0 | 1 | 2 = 1, clientId = 'pub') {
  return runMosquittoClient(mosquittoPubBinary, ['-h', '127.0.0.1', '-p', String(collector.mqttPort), '-i', clientId, '-q', String(qos), '-t', topic, '-m', message]);
}

async function createStreams(kinesis: KinesisClient, ...names: string[]): Promise<void> {
  for (const name of names) await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  for (const name of names) await waitForStreamStatus(kinesis, name);
}

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${collector.endpoint}/mqtt/rules${path}`, init);
}

async function errorReports(): Promise<ErrorReport[]> {
  await errors.readNew();
  return errors.records.map((record) => JSON.parse(record.data.toString()) as ErrorReport);
}

describe.skipIf(skipReason !== undefined)('MQTT topic rules', () => {
  beforeAll(async () => {
    dir = await makeTempDir('riffle-mqtt-rules-');
    configFile = join(dir.path, 'collector.json');
    writeFileSync(configFile, JSON.stringify({ mqtt: { rules } }));
    collector = await startCollector(join(dir.path, 'data'), ['--config', configFile]);
    client = kinesisClient(collector.endpoint);
    await createStreams(client, 'telemetry', 'meters', 'rule-errors');
    errors = new StreamReader(client, 'rule-errors');
  });
  afterAll(async () => {
    await collector?.stop();
    await dir.remove();
  });

  it('puts what devices publish at QoS 0, 1 and 2 into the stream, keyed by ${topic(2)}', async () => {
    for (const qos of [0, 1, 2] as const) {
      const run = await pub('sensors/dev-7/telemetry', JSON.stringify({ temperature: 20 + qos, qos }), qos);
      expect(run.code, run.stderr).toBe(0);
    }
    const reader = new StreamReader(client, 'telemetry');
    // QoS 1 and 2 were acknowledged only once stored, so they are readable at once; QoS 0 has no acknowledgement to wait for.
    const records = await reader.waitFor('3 readings', (all) => all.length >= 3);
    expect(records.map((record) => record.partitionKey)).toEqual(['dev-7', 'dev-7', 'dev-7']);
    expect(records.map((record) => JSON.parse(record.data.toString()) as unknown).sort((a, b) => (a as { qos: number }).qos - (b as { qos: number }).qos)).toEqual([
      { temperature: 20, qos: 0 },
      { temperature: 21, qos: 1 },
      { temperature: 22, qos: 2 },
    ]);
    expect(await readMetric(collector.endpoint, 'mqtt_rule_matches_total{rule="telemetry"}')).toBe(3);
  });

  it('puts a QoS 2 message into the stream once when the device resends it before PUBREL (MQTT-4.3.3-2)', async () => {
    const device = await RawMqttClient.connect(collector.mqttPort, 'qos2-resender');
    try {
      device.publishQos2('sensors/qos2dup/telemetry', '{"n":1}', 7, false);
      await device.expect(RawMqttClient.pubrec(7), 'PUBREC 7');
      // As if that PUBREC was lost: the same packet again, DUP set.
      device.publishQos2('sensors/qos2dup/telemetry', '{"n":1}', 7, true);
      await device.expect(RawMqttClient.pubrec(7), 'PUBREC 7 for the duplicate');
      device.pubrel(7);
      await device.expect(RawMqttClient.pubcomp(7), 'PUBCOMP 7');
      // The identifier is free again: the same id now carries a new message.
      device.publishQos2('sensors/qos2dup/telemetry', '{"n":2}', 7, false);
      await device.expect(RawMqttClient.pubrec(7), 'PUBREC 7 for the second message');
    } finally {
      device.close();
    }
    const reader = new StreamReader(client, 'telemetry');
    await reader.waitFor('both messages', (all) => all.filter((record) => record.partitionKey === 'qos2dup').length >= 2);
    expect(reader.records.filter((record) => record.partitionKey === 'qos2dup').map((record) => record.data.toString())).toEqual(['{"n":1}', '{"n":2}']);
  });

  it('republishes only what meets the condition', async () => {
    const alerts = await startMosquittoSub(['-h', '127.0.0.1', '-p', String(collector.mqttPort), '-t', 'alerts/#', '-q', '1', '-v', '-C', '1', '-W', '20']);
    expect((await pub('sensors/dev-1/telemetry', JSON.stringify({ temperature: 25 }))).code).toBe(0);
    expect((await pub('sensors/dev-2/telemetry', JSON.stringify({ temperature: 35.5 }))).code).toBe(0);
    expect((await alerts.done).stdout.trim()).toBe('alerts/dev-2 {"temperature":35.5}');
  });

  it('routes malformed payloads, missing fields, unknown streams and delivery streams to the error action, counted', async () => {
    const meters = new StreamReader(client, 'meters');
    expect((await pub('meters/m1/reading', JSON.stringify({ meter: { id: 'M-1' }, kwh: 3.2 }), 1, 'meter-1')).code).toBe(0);
    expect((await pub('meters/m2/reading', 'kwh=3.2', 1, 'meter-2')).code).toBe(0);
    expect((await pub('meters/m3/reading', JSON.stringify({ kwh: 1 }), 1, 'meter-3')).code).toBe(0);
    expect((await pub('ghost/x', 'boo', 1, 'ghost-1')).code).toBe(0);
    expect((await pub('archive/logs', 'a log line', 1, 'archiver')).code).toBe(0);

    expect((await meters.waitFor('the good reading', (all) => all.length >= 1)).map((record) => record.partitionKey)).toEqual(['M-1']);
    const reports = await pollUntil('4 error reports', async () => {
      const all = await errorReports();
      return all.length >= 4 ? all : undefined;
    });
    const byClient = Object.fromEntries(reports.map((report) => [report.clientId, report]));
    expect(byClient['meter-2']).toMatchObject({ ruleName: 'meters', topic: 'meters/m2/reading', errorCode: 'MalformedPayload' });
    expect(Buffer.from(byClient['meter-2']!.base64OriginalPayload, 'base64').toString()).toBe('kwh=3.2');
    expect(byClient['meter-3']).toMatchObject({ ruleName: 'meters', errorCode: 'MissingField' });
    expect(byClient['ghost-1']).toMatchObject({ ruleName: 'ghost', errorCode: 'UnknownStream' });
    expect(byClient.archiver).toMatchObject({ ruleName: 'archive', errorCode: 'UnknownDeliveryStream' });
    expect(await readMetric(collector.endpoint, 'mqtt_rule_errors_total{rule="meters",code="MalformedPayload"}')).toBe(1);
    expect(await readMetric(collector.endpoint, 'mqtt_rule_errors_total{rule="archive",code="UnknownDeliveryStream"}')).toBe(1);
    // The collector is still serving.
    expect((await fetch(`${collector.endpoint}/health`)).status).toBe(200);
  });

  it('puts messages into a Firehose delivery stream, which delivers them to its (local) S3 bucket', async () => {
    const firehose = firehoseClient(collector.endpoint);
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'logs',
        ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::mqtt-logs', RoleARN: 'arn:aws:iam::000000000000:role/firehose', BufferingHints: { IntervalInSeconds: 0, SizeInMBs: 1 } },
      }),
    );
    await waitForDeliveryStreamStatus(firehose, 'logs');
    for (let i = 0; i < 3; i++) expect((await pub('logs/app', `line-${i}`)).code).toBe(0);
    const delivered = await pollUntil('the lines in the bucket', async () => {
      const text = (await listLocalObjects(join(dir.path, 'data'), 'mqtt-logs')).map((object) => object.body.toString()).join('');
      return text.split('\n').length > 3 ? text : undefined;
    }, { timeoutMs: 30_000 });
    // With no buffering interval each record may be its own object, and object keys end in a random suffix.
    expect(delivered.split('\n').filter((line) => line !== '').sort()).toEqual(['line-0', 'line-1', 'line-2']);
    expect(delivered.endsWith('\n')).toBe(true);
  });

  it('lists, adds and removes rules at run time through the rules API, and keeps the changes across a restart', async () => {
    const listed = (await (await api('')).json()) as { rules: Array<{ name: string }> };
    expect(listed.rules.map((rule) => rule.name)).toEqual(rules.map((rule) => rule.name));

    const invalid = await api('/broken', { method: 'PUT', body: JSON.stringify({ topicFilter: 'a/#/b', actions: [] }) });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { __type: string }).__type).toBe('ValidationException');

    const added = await api('/extra', { method: 'PUT', body: JSON.stringify({ topicFilter: 'extra/+', actions: [{ kinesis: { streamName: 'meters', partitionKey: 'extra-${topic(2)}' } }] }) });
    expect(added.status).toBe(200);
    expect(((await (await api('/extra')).json()) as { topicFilter: string }).topicFilter).toBe('extra/+');
    expect((await pub('extra/one', 'first')).code).toBe(0);
    const meters = new StreamReader(client, 'meters');
    await meters.waitFor('the extra rule to deliver', (all) => all.some((record) => record.partitionKey === 'extra-one'));

    expect((await api('/ghost', { method: 'DELETE' })).status).toBe(204);
    expect((await api('/ghost', { method: 'DELETE' })).status).toBe(404);

    expect(await collector.stop()).toBe(0);
    collector = await startCollector(join(dir.path, 'data'), ['--config', configFile]);
    const after = (await (await api('')).json()) as { rules: Array<{ name: string }> };
    expect(after.rules.map((rule) => rule.name).sort()).toEqual(['archive', 'extra', 'hot', 'logs', 'meters', 'telemetry']);
    expect((await api('/ghost')).status).toBe(404);
  });
});

describe.skipIf(skipReason !== undefined)('MQTT topic rules against a slow or dead stream', () => {
  let slowDir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    slowDir = await makeTempDir('riffle-mqtt-slow-');
  });
  afterAll(async () => {
    await slowDir.remove();
  });

  it('holds acknowledgements while the stream throttles, and loses no acknowledged message when the collector is killed', async () => {
    const config = join(slowDir.path, 'collector.json');
    writeFileSync(config, JSON.stringify({ mqtt: { rules: [{ name: 'slow', topicFilter: 'slow/#', actions: [{ kinesis: { streamName: 'slow', partitionKey: '${topic(2)}' } }] }] } }));
    const data = join(slowDir.path, 'data');
    // 0.02 × Kinesis' per-shard limits: 20 records/s into the one shard.
    let slow = await startCollector(data, ['--config', config, '--shard-limits', '0.02']);
    await createStreams(kinesisClient(slow.endpoint), 'slow');

    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${slow.mqttPort}`, { clientId: 'burst', reconnectPeriod: 0 });
    const acknowledged: number[] = [];
    const total = 120;
    for (let i = 0; i < total; i++) {
      device.publish(`slow/burst/${i}`, JSON.stringify({ i }), { qos: 1 }, (error) => {
        if (!error) acknowledged.push(i);
      });
    }
    await pollUntil('the stream to throttle and some acknowledgements', async () => acknowledged.length >= 30 && (await readMetric(slow.endpoint, 'mqtt_rule_action_retries_total{target="kinesis:slow"}')) > 0, { timeoutMs: 30_000 });
    // Messages are still waiting for the stream: acknowledgements are being held back.
    expect(acknowledged.length).toBeLessThan(total);
    expect(await readMetric(slow.endpoint, 'mqtt_rule_messages_pending')).toBeGreaterThan(0);
    await slow.kill();
    const acknowledgedBeforeKill = [...acknowledged];
    device.end(true);

    slow = await startCollector(data, ['--config', config, '--shard-limits', 'off']);
    try {
      const reader = new StreamReader(kinesisClient(slow.endpoint), 'slow');
      await reader.readNew();
      const stored = new Set(reader.records.map((record) => (JSON.parse(record.data.toString()) as { i: number }).i));
      const lost = acknowledgedBeforeKill.filter((i) => !stored.has(i));
      expect(lost).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acknowledgedBeforeKill.length);
    } finally {
      await slow.stop();
    }
  });
});

describe.skipIf(!existsSync('/usr/bin/curl'))('MQTT rules API with access keys', () => {
  it('requires a SigV4 signature (curl --aws-sigv4) and a policy allowing the iot:*TopicRule actions', async () => {
    const keysDir = await makeTempDir('riffle-mqtt-rules-keys-');
    const config = join(keysDir.path, 'collector.json');
    writeFileSync(
      config,
      JSON.stringify({
        accessKeys: [
          { accessKeyId: 'AKIDRULESADMIN', secretAccessKey: 'admin-secret' },
          { accessKeyId: 'AKIDRULESDEVICE', secretAccessKey: 'device-secret', name: 'device', policy: { actions: ['kinesis:PutRecord*'], resources: ['*'] } },
        ],
      }),
    );
    const signed = await startCollector(join(keysDir.path, 'data'), ['--config', config]);
    const curl = async (credentials: string | undefined, ...args: string[]) => {
      const sign = credentials === undefined ? [] : ['--aws-sigv4', 'aws:amz:us-east-1:kinesis', '--user', credentials];
      const { stdout } = await promisify(execFile)('/usr/bin/curl', ['-s', ...sign, ...args]);
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    try {
      const url = `${signed.endpoint}/mqtt/rules`;
      expect((await curl(undefined, url)).__type).toBe('MissingAuthenticationTokenException');
      expect((await curl('AKIDRULESADMIN:wrong-secret', url)).__type).toBe('InvalidSignatureException');
      expect((await curl('AKIDRULESDEVICE:device-secret', url)).__type).toBe('AccessDeniedException');
      const rule = JSON.stringify({ topicFilter: 'a/#', actions: [{ republish: { topic: 'b/${topic(2)}' } }] });
      expect(await curl('AKIDRULESADMIN:admin-secret', '-X', 'PUT', '-H', 'content-type: application/json', '--data', rule, `${url}/copy`)).toMatchObject({ name: 'copy', topicFilter: 'a/#' });
      expect(await curl('AKIDRULESADMIN:admin-secret', url)).toMatchObject({ rules: [{ name: 'copy' }] });
    } finally {
      await signed.stop();
      await keysDir.remove();
    }
  });
});
