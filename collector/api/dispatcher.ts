/**
 * Finds the operation an `X-Amz-Target` names, validates the input against the API model,
 * checks the caller's access policy, and runs it.
 */
import { AwsError } from '../../shared/errors.js';
import { authorize } from '../auth.js';
import type { StreamStore } from '../store/streams.js';
import { kinesisOperations } from './kinesis/index.js';
import type { ApiCall, Dispatcher } from './operation.js';
import { validateRequest } from './schemas/validate.js';

const KINESIS_TARGET_PREFIX = 'Kinesis_20131202.';

export function createDispatcher(store: StreamStore): Dispatcher {
  return {
    async dispatch(call: ApiCall): Promise<unknown> {
      const name = call.target.startsWith(KINESIS_TARGET_PREFIX) ? call.target.slice(KINESIS_TARGET_PREFIX.length) : undefined;
      const operation = name === undefined ? undefined : kinesisOperations.get(name);
      if (!operation || name === undefined) throw new AwsError('UnknownOperationException', '');
      const input = validateRequest(name, call.input, call.protocol);
      const ctx = { store, requestId: call.requestId };
      authorize(call.identity, `kinesis:${name}`, operation.resource(input, ctx));
      return operation.handle(input, ctx);
    },
  };
}
