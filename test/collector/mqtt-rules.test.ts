/**
 * The topic rules engine in process, over a real StreamStore and level database: Firehose actions
 * against a recording FirehoseTarget (a stand-in: Firehose delivery is not part of the collector
 * yet, and this is the narrow interface it will implement), batching, retries, and rule
 * definitions that are refused with the offending key named.
 */
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttMetrics } from '../../collector/mqtt/metrics.js';
import { RuleEngine } from '../../collector/mqtt/rules/engine.js';
import { parseRule, RuleDefinitionError } from '../../collector/mqtt/rules/rule.js';
import { RuleTargets, type FirehoseTarget } from '../../collector/mqtt/rules/targets.js';
import { StreamStore } from '../../collector/store/streams.js';
import { systemClock } from '../../shared/clock.js';
import { AwsError } from '../../shared/errors.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Records every putRecordBatch call; `failNext` makes the next calls answer per-record failures. */
class RecordingFirehose implements FirehoseTarget {
  readonly calls: Array<{ name: string; records: string[] }> = [];
  failNext = 0;

  async putRecordBatch(name: string, records: Buffer[]) {
    if (name !== 'archive') throw new AwsError('ResourceNotFoundException', `Firehose ${name} under account 000000000000 not found.`);
    if (this.failNext > 0) {
      this.failNext--;
      return records.map(() => ({ errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' }));
    }
    this.calls.push({ name, records: records.map((record) => record.toString()) });
    return records.map((_, i) => ({ recordId: `r${i}` }));
  }
}

describe('topic rules engine', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let store: StreamStore;
  let db: Level<string, string>;
  let firehose: RecordingFirehose;
  let metrics: MqttMetrics;
  let engine: RuleEngine;

  beforeEach(async () => {
    dir = await makeTempDir();
    store = await StreamStore.open({
      dataDir: join(dir.path, 'store'),
      clock: systemClock,
      region: 'us-east-1',
      accountId: '000000000000',
      shardLimits: { enabled: false },
      statusDelayMs: 0,
      shardLimit: 10,
      onDemandStreamCountLimit: 1,
      log: () => undefined,
    });
    await store.createStream({ name: 'errors', shardCount: 1, mode: 'PROVISIONED' });
    await store.settled({ streamName: 'errors' });
    db = new Level<string, string>(join(dir.path, 'mqtt'));
    firehose = new RecordingFirehose();
    metrics = new MqttMetrics();
    engine = new RuleEngine(new RuleTargets(store, firehose, async () => undefined), db, metrics, () => undefined, systemClock);
    const errorAction = { kinesis: { streamName: 'errors', partitionKey: '${clientid()}' } };
    await engine.load([
      parseRule({ name: 'archive', topicFilter: 'logs/#', actions: [{ firehose: { deliveryStreamName: 'archive', separator: '\n' } }], errorAction }, 'rule'),
      parseRule({ name: 'lost', topicFilter: 'lost/#', actions: [{ firehose: { deliveryStreamName: 'nowhere' } }], errorAction }, 'rule'),
    ]);
  });
  afterEach(async () => {
    engine.close();
    await db.close();
    await store.close();
    await dir.remove();
  });

  async function errorRecords(): Promise<Array<Record<string, unknown>>> {
    const iterator = await store.getShardIterator({ streamName: 'errors' }, 'shardId-000000000000', 'TRIM_HORIZON');
    return (await store.getRecords(iterator, 100)).records.map((record) => JSON.parse(record.data.toString()) as Record<string, unknown>);
  }

  it('batches concurrent messages into PutRecordBatch calls, with the separator appended', async () => {
    await Promise.all(['a', 'b', 'c'].map((line) => engine.process('logs/app', Buffer.from(line), 'dev')));
    expect(firehose.calls).toEqual([{ name: 'archive', records: ['a\n', 'b\n', 'c\n'] }]);
  });

  it('retries records the target refused for now, and resolves only once they are delivered', async () => {
    firehose.failNext = 2;
    await engine.process('logs/app', Buffer.from('eventually'), 'dev');
    expect(firehose.calls).toEqual([{ name: 'archive', records: ['eventually\n'] }]);
    expect(metrics.get('mqtt_rule_action_retries_total', { target: 'firehose:archive' })).toBe(2);
  });

  it('sends an unknown delivery stream to the error action', async () => {
    await engine.process('lost/x', Buffer.from('payload'), 'dev-9');
    expect(await errorRecords()).toMatchObject([{ ruleName: 'lost', clientId: 'dev-9', errorCode: 'UnknownDeliveryStream' }]);
    expect(metrics.get('mqtt_rule_errors_total', { rule: 'lost', code: 'UnknownDeliveryStream' })).toBe(1);
  });

  it('fails Firehose actions with FirehoseTargetUnavailable when no Firehose delivery is wired', async () => {
    const unwired = new RuleEngine(new RuleTargets(store, undefined, async () => undefined), db, metrics, () => undefined, systemClock);
    await unwired.load([parseRule({ name: 'archive', topicFilter: 'logs/#', actions: [{ firehose: { deliveryStreamName: 'archive' } }], errorAction: { kinesis: { streamName: 'errors' } } }, 'rule')]);
    await unwired.process('logs/app', Buffer.from('x'), 'dev-3');
    expect(await errorRecords()).toMatchObject([{ ruleName: 'archive', errorCode: 'FirehoseTargetUnavailable' }]);
  });

  it('refuses rule definitions with the offending key named', () => {
    const refused = (rule: unknown) => {
      try {
        parseRule(rule, 'rule');
      } catch (error) {
        expect(error).toBeInstanceOf(RuleDefinitionError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ name: 'r', topicFilter: 'a/#/b', actions: [{ republish: { topic: 'x' } }] })).toMatch(/^rule.topicFilter: '#' must be the last level/);
    expect(refused({ name: 'r', topicFilter: 'a', actions: [{ kinesis: { streamName: 's', partitionKey: '${topic(0)}' } }] })).toMatch(/^rule.actions\[0\].kinesis.partitionKey: topic\(n\) counts levels from 1/);
    expect(refused({ name: 'r', topicFilter: 'a', actions: [{ lambda: {} }] })).toMatch(/unknown action 'lambda'/);
    expect(refused({ name: 'r', topicFilter: 'a', condition: [{ field: 't', op: '>', value: 'hot' }], actions: [{ republish: { topic: 'x' } }] })).toMatch(/condition\[0\].value: must be a number for >/);
    expect(refused({ name: 'no spaces', topicFilter: 'a', actions: [{ republish: { topic: 'x' } }] })).toMatch(/rule.name/);
  });
});
