/**
 * The topic rules engine: for each message a device publishes, every rule whose topic filter and
 * conditions match runs its actions; `process` resolves only once every action's target durably
 * has the message (the broker holds the QoS 1 PUBACK / QoS 2 PUBREC until then).
 *
 * - Retryable failures (throttling, a busy target) are retried with shared/backoff.ts, one
 *   Backoff per target, for as long as it takes: the device's unacknowledged messages back up in
 *   its in-flight window instead of being lost. Closing the engine abandons the retries; the
 *   messages stay unacknowledged and the device sends them again.
 * - Final failures (malformed payload, missing field, unknown target, refused record) go to the
 *   rule's error action with a JSON description, are counted and logged, and the message is then
 *   acknowledged: resending it would fail the same way.
 *
 * Rules come from the config; changes made through the rules API are kept in the MQTT level
 * database as `riffle-rule:<name>` → `{"definition": {...}}` or `{"removed": true}` and applied over
 * the config's rules at start.
 */
import type { Level } from 'level';
import { Backoff } from '../../../shared/backoff.js';
import { sleepUnlessAborted, type Clock } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/log.js';
import { topicMatches } from '../../../shared/mqtt-topic.js';
import type { MqttMetrics } from '../metrics.js';
import { conditionsHold } from './condition.js';
import { RuleFailure } from './failure.js';
import { RuleMessage } from './message.js';
import { RuleDefinitionError, parseRule, type RuleAction, type TopicRule } from './rule.js';
import type { RuleTargets } from './targets.js';
import { renderTemplate } from './template.js';

const RULE_KEY = 'riffle-rule:';

/** Retry pacing for rule targets: Kinesis Agent's defaults (see shared/backoff.ts). */
const retryBackoff = { retryInitialBackoffMillis: 100, retryMaxBackoffMillis: 10_000 };

export class EngineClosedError extends Error {
  constructor() {
    super('the rules engine is closing; the message stays unacknowledged');
  }
}

export class RuleEngine {
  private readonly rules = new Map<string, TopicRule>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly closing = new AbortController();
  private pending = 0;

  constructor(
    private readonly targets: RuleTargets,
    private readonly db: Level<string, string>,
    private readonly metrics: MqttMetrics,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** The config's rules with the changes made at run time applied over them. */
  async load(configRules: readonly TopicRule[]): Promise<void> {
    for (const rule of configRules) this.rules.set(rule.name, rule);
    for await (const [key, value] of this.db.iterator({ gte: RULE_KEY, lt: `${RULE_KEY.slice(0, -1)};` })) {
      const name = key.slice(RULE_KEY.length);
      const change = JSON.parse(value) as { removed?: true; definition?: unknown };
      if (change.removed) {
        this.rules.delete(name);
        continue;
      }
      try {
        this.rules.set(name, parseRule(change.definition, `stored rule ${name}`));
      } catch (error) {
        // A rule stored by an older version that this one no longer accepts: serve without it.
        if (!(error instanceof RuleDefinitionError)) throw error;
        this.log('mqtt.stored-rule-invalid', { rule: name, error: error.message });
      }
    }
  }

  list(): TopicRule[] {
    return [...this.rules.values()];
  }

  get(name: string): TopicRule | undefined {
    return this.rules.get(name);
  }

  async put(rule: TopicRule): Promise<void> {
    await this.db.put(RULE_KEY + rule.name, JSON.stringify({ definition: rule.definition }));
    this.rules.set(rule.name, rule);
  }

  async remove(name: string): Promise<boolean> {
    if (!this.rules.has(name)) return false;
    await this.db.put(RULE_KEY + name, JSON.stringify({ removed: true }));
    this.rules.delete(name);
    return true;
  }

  /** Runs every matching rule; resolves when all their targets have the message. Rejects only with EngineClosedError. */
  async process(topic: string, payload: Buffer, clientId: string): Promise<void> {
    const message = new RuleMessage(topic, payload, clientId, this.clock.now());
    const matching = [...this.rules.values()].filter((rule) => topicMatches(rule.topicFilter, topic));
    if (matching.length === 0) return;
    this.metrics.set('mqtt_rule_messages_pending', ++this.pending);
    try {
      await Promise.all(matching.map((rule) => this.runRule(rule, message)));
    } finally {
      this.metrics.set('mqtt_rule_messages_pending', --this.pending);
    }
  }

  close(): void {
    this.closing.abort();
  }

  private async runRule(rule: TopicRule, message: RuleMessage): Promise<void> {
    try {
      if (!conditionsHold(rule.condition, message)) return;
    } catch (error) {
      return this.failed(rule, message, asFailure(error));
    }
    this.metrics.add('mqtt_rule_matches_total', 1, { rule: rule.name });
    await Promise.all(
      rule.actions.map(async (action) => {
        try {
          await this.perform(action, message);
        } catch (error) {
          if (error instanceof EngineClosedError) throw error;
          await this.failed(rule, message, asFailure(error));
        }
      }),
    );
  }

  /** Routes a final failure to the error action; counted and logged either way. */
  private async failed(rule: TopicRule, message: RuleMessage, failure: RuleFailure): Promise<void> {
    this.metrics.add('mqtt_rule_errors_total', 1, { rule: rule.name, code: failure.code });
    this.log('mqtt.rule-error', { rule: rule.name, topic: message.topic, clientId: message.clientId, code: failure.code, error: failure.message });
    if (!rule.errorAction) {
      this.metrics.add('mqtt_rule_error_action_failures_total', 1, { rule: rule.name });
      return;
    }
    // Like AWS IoT's error action message: what failed and why, with the original payload.
    const report = new RuleMessage(
      message.topic,
      Buffer.from(
        JSON.stringify({
          ruleName: rule.name,
          topic: message.topic,
          clientId: message.clientId,
          timestamp: message.receivedMs,
          errorCode: failure.code,
          errorMessage: failure.message,
          base64OriginalPayload: message.payload.toString('base64'),
        }),
      ),
      message.clientId,
      message.receivedMs,
    );
    try {
      await this.perform(rule.errorAction, report);
    } catch (error) {
      if (error instanceof EngineClosedError) throw error;
      this.metrics.add('mqtt_rule_error_action_failures_total', 1, { rule: rule.name });
      this.log('mqtt.rule-error-action-failed', { rule: rule.name, topic: message.topic, error: String(error) });
    }
  }

  /** Delivers to one action's target, retrying retryable failures until it succeeds or the engine closes. */
  private async perform(action: RuleAction, message: RuleMessage): Promise<void> {
    const targetKey = action.kind === 'kinesis' ? `kinesis:${action.streamName}` : action.kind === 'firehose' ? `firehose:${action.deliveryStreamName}` : 'republish';
    for (;;) {
      if (this.closing.signal.aborted) throw new EngineClosedError();
      try {
        await this.deliver(action, message);
        this.backoff(targetKey).succeeded();
        return;
      } catch (error) {
        if (!(error instanceof RuleFailure) || !error.retryable) throw error;
        this.metrics.add('mqtt_rule_action_retries_total', 1, { target: targetKey });
        await sleepUnlessAborted(this.backoff(targetKey).failed(error.message.startsWith('ProvisionedThroughputExceeded')), this.closing.signal);
      }
    }
  }

  private deliver(action: RuleAction, message: RuleMessage): Promise<void> {
    switch (action.kind) {
      case 'kinesis':
        return this.targets.putKinesis(action.streamName, { data: message.payload, partitionKey: renderTemplate(action.partitionKey, message) });
      case 'firehose':
        return this.targets.putFirehose(action.deliveryStreamName, action.separator === '' ? message.payload : Buffer.concat([message.payload, Buffer.from(action.separator)]));
      case 'republish':
        return this.targets.republish(renderTemplate(action.topic, message), message.payload, action.qos);
    }
  }

  private backoff(targetKey: string): Backoff {
    let backoff = this.backoffs.get(targetKey);
    if (!backoff) this.backoffs.set(targetKey, (backoff = new Backoff(retryBackoff)));
    return backoff;
  }
}

function asFailure(error: unknown): RuleFailure {
  if (error instanceof RuleFailure) return error;
  return new RuleFailure('RecordRejected', String(error));
}
