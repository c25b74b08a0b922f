/**
 * Substitution templates in rule actions, after AWS IoT's `${expression}` syntax: `${topic()}` (the
 * whole topic), `${topic(n)}` (its n-th level, 1-based), `${clientid()}`, `${timestamp()}` (ms),
 * `${newuuid()}`, or a dotted path into the JSON payload such as `${device.id}`.
 */
import { randomUUID } from 'node:crypto';
import { RuleFailure } from './failure.js';
import type { RuleMessage } from './message.js';

type Part = { literal: string } | { topic: number | 'all' } | { clientId: true } | { timestamp: true } | { uuid: true } | { field: string[] };

export interface Template {
  source: string;
  parts: Part[];
  /** Whether rendering needs the payload as JSON. */
  readsPayload: boolean;
}

const fieldPath = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

export function parseTemplate(source: string): Template {
  const parts: Part[] = [];
  let rest = source;
  while (rest.length > 0) {
    const start = rest.indexOf('${');
    if (start === -1) {
      parts.push({ literal: rest });
      break;
    }
    if (start > 0) parts.push({ literal: rest.slice(0, start) });
    const end = rest.indexOf('}', start);
    if (end === -1) throw new Error(`unclosed \${ in template ${JSON.stringify(source)}`);
    parts.push(parseExpression(rest.slice(start + 2, end).trim(), source));
    rest = rest.slice(end + 1);
  }
  return { source, parts, readsPayload: parts.some((part) => 'field' in part) };
}

function parseExpression(expression: string, source: string): Part {
  const topic = /^topic\((\d*)\)$/.exec(expression);
  if (topic) return { topic: topic[1] === '' ? 'all' : checkLevel(Number(topic[1]), source) };
  if (expression === 'clientid()') return { clientId: true };
  if (expression === 'timestamp()') return { timestamp: true };
  if (expression === 'newuuid()') return { uuid: true };
  if (fieldPath.test(expression)) return { field: expression.split('.') };
  throw new Error(`unknown expression \${${expression}} in ${JSON.stringify(source)} (known: topic(), topic(n), clientid(), timestamp(), newuuid(), a payload field)`);
}

function checkLevel(level: number, source: string): number {
  if (level < 1) throw new Error(`topic(n) counts levels from 1, in ${JSON.stringify(source)}`);
  return level;
}

export function renderTemplate(template: Template, message: RuleMessage): string {
  let out = '';
  for (const part of template.parts) {
    if ('literal' in part) out += part.literal;
    else if ('topic' in part) {
      if (part.topic === 'all') out += message.topic;
      else {
        const level = message.topic.split('/')[part.topic - 1];
        if (level === undefined) throw new RuleFailure('MissingField', `topic ${message.topic} has no level ${part.topic} (${template.source})`);
        out += level;
      }
    } else if ('clientId' in part) out += message.clientId;
    else if ('timestamp' in part) out += String(message.receivedMs);
    else if ('uuid' in part) out += randomUUID();
    else {
      const value = readField(message, part.field);
      out += typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return out;
}

/** The payload field at `path`; a missing field or a non-JSON payload is a RuleFailure. */
export function readField(message: RuleMessage, path: readonly string[]): unknown {
  let value: unknown = message.json();
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
      throw new RuleFailure('MissingField', `payload has no field ${path.join('.')}`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
