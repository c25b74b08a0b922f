/**
 * Finds the operation an `X-Amz-Target` names — Kinesis Data Streams or Firehose — validates the
 * input against the service's API model, checks the caller's access policy, and runs it.
 */
import { AwsError } from '../../shared/errors.js';
import { authorize } from '../auth.js';
import type { DeliveryStreams } from '../delivery/delivery-streams.js';
import type { StreamStore } from '../store/streams.js';
import { firehoseOperations } from './firehose/index.js';
import { kinesisOperations } from './kinesis/index.js';
import type { ApiCall, Dispatcher } from './operation.js';
import { firehoseValidator, kinesisValidator } from './schemas/validate.js';

const KINESIS_TARGET_PREFIX = 'Kinesis_20131202.';
const FIREHOSE_TARGET_PREFIX = 'Firehose_20150804.';

export function createDispatcher(store: StreamStore, deliveryStreams?: DeliveryStreams): Dispatcher {
  return {
    async dispatch(call: ApiCall): Promise<unknown> {
      if (call.target.startsWith(FIREHOSE_TARGET_PREFIX) && deliveryStreams) {
        const name = call.target.slice(FIREHOSE_TARGET_PREFIX.length);
        const operation = firehoseOperations.get(name);
        if (!operation) throw new AwsError('UnknownOperationException', '');
        const input = firehoseValidator.validateRequest(name, call.input, call.protocol);
        const ctx = { deliveryStreams, requestId: call.requestId };
        authorize(call.identity, `firehose:${name}`, operation.resource(input, ctx));
        return operation.handle(input, ctx);
      }
      const name = call.target.startsWith(KINESIS_TARGET_PREFIX) ? call.target.slice(KINESIS_TARGET_PREFIX.length) : undefined;
      const operation = name === undefined ? undefined : kinesisOperations.get(name);
      if (!operation || name === undefined) throw new AwsError('UnknownOperationException', '');
      const input = kinesisValidator.validateRequest(name, call.input, call.protocol);
      const ctx = { store, requestId: call.requestId };
      authorize(call.identity, `kinesis:${name}`, operation.resource(input, ctx));
      return operation.handle(input, ctx);
    },
  };
}
