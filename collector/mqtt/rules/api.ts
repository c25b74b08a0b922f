/**
 * The topic rules API on the collector's HTTP port (JSON; SigV4 like the AWS API when access keys
 * are configured, with AWS IoT's action names in access policies):
 *
 *   GET    /mqtt/rules         → 200 { "rules": [rule, …] }          iot:ListTopicRules
 *   GET    /mqtt/rules/NAME    → 200 rule | 404                      iot:GetTopicRule
 *   PUT    /mqtt/rules/NAME    rule → 200 rule (added or replaced)   iot:CreateTopicRule
 *   DELETE /mqtt/rules/NAME    → 204 | 404                           iot:DeleteTopicRule
 *
 * A rule is written as in the config's `mqtt.rules` (see rule.ts); in PUT the name comes from the
 * path and may be left out of the body. Changes take effect for the next message and survive a
 * restart.
 */
import { AwsError } from '../../../shared/errors.js';
import { authorize } from '../../auth.js';
import type { JsonRoute } from '../../server.js';
import type { RuleEngine } from './engine.js';
import { RuleDefinitionError, parseRule } from './rule.js';

const RULES_API_PATH = '/mqtt/rules';

export function rulesApi(engine: RuleEngine): JsonRoute {
  return {
    prefix: RULES_API_PATH,
    async handle({ method, path, body, identity }) {
      const name = path === RULES_API_PATH ? undefined : decodeURIComponent(path.slice(RULES_API_PATH.length + 1));
      const notFound = () => new AwsError('ResourceNotFoundException', `Rule ${name} does not exist.`, 404);
      if (name === undefined) {
        if (method !== 'GET') throw new AwsError('ValidationException', `${method} is not supported on ${RULES_API_PATH}; use GET, or PUT/DELETE ${RULES_API_PATH}/NAME.`, 405);
        authorize(identity, 'iot:ListTopicRules', undefined);
        return { status: 200, body: { rules: engine.list().map((rule) => rule.definition) } };
      }
      switch (method) {
        case 'GET': {
          authorize(identity, 'iot:GetTopicRule', undefined);
          const rule = engine.get(name);
          if (!rule) throw notFound();
          return { status: 200, body: rule.definition };
        }
        case 'PUT': {
          authorize(identity, 'iot:CreateTopicRule', undefined);
          if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AwsError('ValidationException', 'The body must be a rule object.');
          const named = body as Record<string, unknown>;
          if (named.name !== undefined && named.name !== name) throw new AwsError('ValidationException', `The body names rule ${String(named.name)}, the path ${name}.`);
          let rule;
          try {
            rule = parseRule({ ...named, name }, 'rule');
          } catch (error) {
            if (error instanceof RuleDefinitionError) throw new AwsError('ValidationException', error.message);
            throw error;
          }
          await engine.put(rule);
          return { status: 200, body: rule.definition };
        }
        case 'DELETE':
          authorize(identity, 'iot:DeleteTopicRule', undefined);
          if (!(await engine.remove(name))) throw notFound();
          return { status: 204 };
        default:
          throw new AwsError('ValidationException', `${method} is not supported on ${RULES_API_PATH}/NAME; use GET, PUT or DELETE.`, 405);
      }
    },
  };
}
