/** A rule's conditions on JSON payload fields: all must hold. */
import { RuleFailure } from './failure.js';
import type { RuleMessage } from './message.js';
import type { Condition } from './rule.js';
import { readField } from './template.js';

export function conditionsHold(conditions: readonly Condition[], message: RuleMessage): boolean {
  return conditions.every((condition) => holds(condition, message));
}

function holds(condition: Condition, message: RuleMessage): boolean {
  const path = condition.field.split('.');
  if (condition.op === 'exists') {
    try {
      readField(message, path);
      return true;
    } catch (error) {
      if (error instanceof RuleFailure && error.code === 'MissingField') return false;
      throw error;
    }
  }
  const value = readField(message, path);
  switch (condition.op) {
    case '==':
      return value === condition.value;
    case '!=':
      return value !== condition.value;
    default: {
      if (typeof value !== 'number') throw new RuleFailure('MalformedPayload', `field ${condition.field} is ${JSON.stringify(value)}, not a number`);
      const operand = condition.value as number;
      if (condition.op === '>') return value > operand;
      if (condition.op === '>=') return value >= operand;
      if (condition.op === '<') return value < operand;
      return value <= operand;
    }
  }
}
