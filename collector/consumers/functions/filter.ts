/**
 * FilterCriteria: EventBridge-style event patterns, as Lambda applies them to Kinesis records —
 * against `{kinesisSchemaVersion, partitionKey, sequenceNumber, approximateArrivalTimestamp, data}`
 * with `data` parsed when it is JSON. A record passes when any filter matches; with no filters,
 * every record passes.
 *
 * Supported (EventBridge "Content filtering"): literal values, `prefix`, `suffix`,
 * `equals-ignore-case`, `anything-but` (a value, a list, or `{prefix}`), `numeric` comparisons,
 * `exists`. A pattern field holding an object matches nested fields; a list matches when any of
 * its matchers does, and against an array value when any element matches.
 */
export type FilterPattern = { [field: string]: FilterPattern | Matcher[] };

type Scalar = string | number | boolean | null;
type Matcher =
  | Scalar
  | { prefix: string }
  | { suffix: string }
  | { 'equals-ignore-case': string }
  | { 'anything-but': Scalar | Scalar[] | { prefix: string } }
  | { numeric: Array<string | number> }
  | { exists: boolean };

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>=', '>']);

export function parseFilterPattern(text: string): FilterPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('is not valid JSON');
  }
  checkPattern(parsed, '');
  return parsed as FilterPattern;
}

function checkPattern(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path || 'the pattern'} must be an object`);
  for (const [field, inner] of Object.entries(value)) {
    const at = path ? `${path}.${field}` : field;
    if (Array.isArray(inner)) inner.forEach((matcher) => checkMatcher(matcher, at));
    else checkPattern(inner, at);
  }
}

function checkMatcher(matcher: unknown, at: string): void {
  if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) return;
  if (typeof matcher !== 'object' || Array.isArray(matcher)) throw new Error(`${at}: unsupported matcher ${JSON.stringify(matcher)}`);
  const [operator, ...rest] = Object.keys(matcher);
  if (operator === undefined || rest.length > 0) throw new Error(`${at}: a matcher has exactly one operator`);
  const operand = (matcher as Record<string, unknown>)[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof operand !== 'string') throw new Error(`${at}: ${operator} takes a string`);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw new Error(`${at}: exists takes true or false`);
      return;
    case 'anything-but':
      return;
    case 'numeric': {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0) throw new Error(`${at}: numeric takes operator/number pairs`);
      for (let i = 0; i < operand.length; i += 2) {
        if (!NUMERIC_OPERATORS.has(operand[i] as string) || typeof operand[i + 1] !== 'number') throw new Error(`${at}: numeric takes operator/number pairs`);
      }
      return;
    }
    default:
      throw new Error(`${at}: unsupported operator ${operator}`);
  }
}

export function matchesAnyFilter(filters: readonly FilterPattern[], record: Record<string, unknown>): boolean {
  return filters.length === 0 || filters.some((filter) => matchesPattern(filter, record));
}

function matchesPattern(pattern: FilterPattern, value: unknown): boolean {
  const object = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  return Object.entries(pattern).every(([field, inner]) => {
    const present = Object.prototype.hasOwnProperty.call(object, field);
    const fieldValue = object[field];
    if (!Array.isArray(inner)) return present && matchesPattern(inner, fieldValue);
    return inner.some((matcher) => matchesField(matcher, present, fieldValue));
  });
}

function matchesField(matcher: Matcher, present: boolean, value: unknown): boolean {
  if (typeof matcher === 'object' && matcher !== null && 'exists' in matcher) return matcher.exists === present;
  if (!present) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => matchesValue(matcher, v));
}

function matchesValue(matcher: Matcher, value: unknown): boolean {
  if (matcher === null || typeof matcher !== 'object') return value === matcher;
  if ('prefix' in matcher) return typeof value === 'string' && value.startsWith(matcher.prefix);
  if ('suffix' in matcher) return typeof value === 'string' && value.endsWith(matcher.suffix);
  if ('equals-ignore-case' in matcher) return typeof value === 'string' && value.toLowerCase() === matcher['equals-ignore-case'].toLowerCase();
  if ('anything-but' in matcher) {
    const excluded = matcher['anything-but'];
    if (typeof excluded === 'object' && excluded !== null && !Array.isArray(excluded)) return typeof value === 'string' && !value.startsWith(excluded.prefix);
    return !(Array.isArray(excluded) ? excluded : [excluded]).includes(value as Scalar);
  }
  if ('numeric' in matcher) {
    if (typeof value !== 'number') return false;
    for (let i = 0; i < matcher.numeric.length; i += 2) {
      const bound = matcher.numeric[i + 1] as number;
      const ok = { '<': value < bound, '<=': value <= bound, '=': value === bound, '>=': value >= bound, '>': value > bound }[matcher.numeric[i] as string];
      if (!ok) return false;
    }
    return true;
  }
  return false;
}
