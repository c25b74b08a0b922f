/**
 * Topic rules, as written in the collector config (`mqtt.rules`) and in the rules API. The shape
 * follows AWS IoT's TopicRulePayload where it can: a topic filter instead of SQL, a list of
 * conditions on JSON payload fields, `actions` as `[{ "kinesis": {...} }, { "firehose": {...} },
 * { "republish": {...} }]`, and one `errorAction`.
 *
 * ```json
 * { "name": "telemetry", "topicFilter": "sensors/+/telemetry",
 *   "condition": [{ "field": "temperature", "op": ">", "value": -40 }],
 *   "actions": [{ "kinesis": { "streamName": "telemetry", "partitionKey": "${topic(2)}" } }],
 *   "errorAction": { "republish": { "topic": "errors/${topic(2)}" } } }
 * ```
 */
import { parseTemplate, type Template } from './template.js';

export type ConditionOp = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'exists';

export interface Condition {
  /** A dotted path into the JSON payload, e.g. `reading.temperature`. */
  field: string;
  op: ConditionOp;
  value?: string | number | boolean | null;
}

export type RuleAction =
  | { kind: 'kinesis'; streamName: string; partitionKey: Template }
  | { kind: 'firehose'; deliveryStreamName: string; separator: string }
  | { kind: 'republish'; topic: Template; qos: 0 | 1 };

export interface TopicRule {
  name: string;
  topicFilter: string;
  condition: Condition[];
  actions: RuleAction[];
  errorAction?: RuleAction;
  /** The rule as written, for listing it back. */
  definition: Record<string, unknown>;
}

export class RuleDefinitionError extends Error {}

// AWS IoT: rule names are 1–128 characters of [a-zA-Z0-9_] (CreateTopicRule, ruleName).
const ruleNamePattern = /^[a-zA-Z0-9_]{1,128}$/;
// Firehose PutRecordBatch's record separators AWS IoT offers: '\n', '\t', '\r\n', ','.
const separators = new Set(['', '\n', '\t', '\r\n', ',']);
const ops = new Set<ConditionOp>(['==', '!=', '>', '>=', '<', '<=', 'exists']);

function fail(where: string, message: string): never {
  throw new RuleDefinitionError(`${where}: ${message}`);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'must be an object');
  return value as Record<string, unknown>;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') fail(where, 'must be a non-empty string');
  return value;
}

function onlyKeys(value: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) fail(where, `unknown key '${key}' (known: ${known.join(', ')})`);
}

function template(value: unknown, where: string): Template {
  try {
    return parseTemplate(text(value, where));
  } catch (error) {
    fail(where, (error as Error).message);
  }
}

function parseTopicFilter(value: unknown, where: string): string {
  const filter = text(value, where);
  const levels = filter.split('/');
  // MQTT 3.1.1 §4.7.1: '#' only as the last level, '+' only as a whole level.
  levels.forEach((level, i) => {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) fail(where, `'#' must be the last level on its own: ${filter}`);
    if (level.includes('+') && level !== '+') fail(where, `'+' must be a whole level: ${filter}`);
  });
  return filter;
}

function parseAction(value: unknown, where: string): RuleAction {
  const wrapper = object(value, where);
  const kinds = Object.keys(wrapper);
  if (kinds.length !== 1) fail(where, 'must have exactly one of kinesis, firehose, republish');
  const kind = kinds[0]!;
  const body = object(wrapper[kind], `${where}.${kind}`);
  const at = `${where}.${kind}`;
  switch (kind) {
    case 'kinesis':
      onlyKeys(body, ['streamName', 'partitionKey'], at);
      return { kind, streamName: text(body.streamName, `${at}.streamName`), partitionKey: template(body.partitionKey ?? '${newuuid()}', `${at}.partitionKey`) };
    case 'firehose': {
      onlyKeys(body, ['deliveryStreamName', 'separator'], at);
      const separator = body.separator ?? '';
      if (typeof separator !== 'string' || !separators.has(separator)) fail(`${at}.separator`, "must be one of '\\n', '\\t', '\\r\\n', ','");
      return { kind, deliveryStreamName: text(body.deliveryStreamName, `${at}.deliveryStreamName`), separator };
    }
    case 'republish': {
      onlyKeys(body, ['topic', 'qos'], at);
      const qos = body.qos ?? 0;
      if (qos !== 0 && qos !== 1) fail(`${at}.qos`, 'must be 0 or 1 (AWS IoT republish allows these)');
      return { kind, topic: template(body.topic, `${at}.topic`), qos };
    }
    default:
      fail(where, `unknown action '${kind}' (known: kinesis, firehose, republish)`);
  }
}

function parseCondition(value: unknown, where: string): Condition {
  const body = object(value, where);
  onlyKeys(body, ['field', 'op', 'value'], where);
  const op = body.op as ConditionOp;
  if (!ops.has(op)) fail(`${where}.op`, `must be one of ${[...ops].join(' ')}`);
  const operand = body.value;
  if (op !== 'exists' && !['string', 'number', 'boolean'].includes(typeof operand) && operand !== null) fail(`${where}.value`, 'must be a string, number, boolean or null');
  if ((op === '>' || op === '>=' || op === '<' || op === '<=') && typeof operand !== 'number') fail(`${where}.value`, `must be a number for ${op}`);
  return { field: text(body.field, `${where}.field`), op, ...(op === 'exists' ? {} : { value: operand as Condition['value'] }) };
}

export function parseRule(value: unknown, where: string): TopicRule {
  const body = object(value, where);
  onlyKeys(body, ['name', 'topicFilter', 'condition', 'actions', 'errorAction'], where);
  const name = text(body.name, `${where}.name`);
  if (!ruleNamePattern.test(name)) fail(`${where}.name`, 'must be 1–128 characters of letters, digits and _');
  if (!Array.isArray(body.actions) || body.actions.length === 0) fail(`${where}.actions`, 'must be a non-empty array');
  // AWS IoT allows at most 10 actions per rule (AWS IoT Core quotas, "Rules engine").
  if (body.actions.length > 10) fail(`${where}.actions`, 'at most 10 actions per rule');
  const condition = body.condition === undefined ? [] : body.condition;
  if (!Array.isArray(condition)) fail(`${where}.condition`, 'must be an array of conditions');
  return {
    name,
    topicFilter: parseTopicFilter(body.topicFilter, `${where}.topicFilter`),
    condition: condition.map((entry, i) => parseCondition(entry, `${where}.condition[${i}]`)),
    actions: body.actions.map((action, i) => parseAction(action, `${where}.actions[${i}]`)),
    ...(body.errorAction === undefined ? {} : { errorAction: parseAction(body.errorAction, `${where}.errorAction`) }),
    definition: body,
  };
}
