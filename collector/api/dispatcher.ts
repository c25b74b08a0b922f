/**
 * Finds the operation an `X-Amz-Target` names — Kinesis Data Streams or Firehose — validates the
 * input against the service's API model, checks the caller's access policy, and runs it. The
 * Riffle-only operations — leases of the consumer library (`RiffleLeases_20250101.*`) and
 * hosted-function mappings (`RiffleFunctions_20250101.*`) — validate their own input.
 */
import { AwsError } from '../../shared/errors.js';
import { authorize } from '../auth.js';
import type { DeliveryStreams } from '../delivery/delivery-streams.js';
import type { StreamStore } from '../store/streams.js';
import { firehoseOperations } from './firehose/index.js';
import { kinesisOperations } from './kinesis/index.js';
import type { HostedFunctions } from '../consumers/functions/index.js';
import { functionOperations, FUNCTIONS_TARGET_PREFIX } from './riffle-functions/index.js';
import { leaseOperations } from './riffle-leases/index.js';
import { LEASES_TARGET_PREFIX, type RiffleOperation } from './riffle-leases/operation.js';
import { readPutRecordsCbor } from './kinesis/put-records-cbor.js';
import { readPutRecordsJson } from './kinesis/put-records-json.js';
import { ValidatedInput, type ApiCall, type Dispatcher, type WireProtocol } from './operation.js';
import { firehoseValidator, kinesisValidator } from './schemas/validate.js';

const KINESIS_TARGET_PREFIX = 'Kinesis_20131202.';
const FIREHOSE_TARGET_PREFIX = 'Firehose_20150804.';
const PUT_RECORDS_TARGET = `${KINESIS_TARGET_PREFIX}PutRecords`;

const riffleServices: Array<[prefix: string, operations: ReadonlyMap<string, RiffleOperation<any>>]> = [
  [LEASES_TARGET_PREFIX, leaseOperations],
  [FUNCTIONS_TARGET_PREFIX, functionOperations],
];

export function createDispatcher(store: StreamStore, deliveryStreams?: DeliveryStreams, functions?: HostedFunctions): Dispatcher {
  return {
    readInput(target: string, body: Buffer, protocol: WireProtocol): ValidatedInput | undefined {
      if (target !== PUT_RECORDS_TARGET) return undefined;
      const input = protocol === 'cbor' ? readPutRecordsCbor(body) : readPutRecordsJson(body);
      return input === undefined ? undefined : new ValidatedInput(target, input as unknown as Record<string, unknown>);
    },
    async dispatch(call: ApiCall): Promise<unknown> {
      if (call.input instanceof ValidatedInput && call.input.target !== call.target) throw new Error(`input read for ${call.input.target} dispatched to ${call.target}`);
      if (call.target.startsWith(FIREHOSE_TARGET_PREFIX) && deliveryStreams) {
        const name = call.target.slice(FIREHOSE_TARGET_PREFIX.length);
        const operation = firehoseOperations.get(name);
        if (!operation) throw new AwsError('UnknownOperationException', '');
        const input = firehoseValidator.validateRequest(name, call.input, call.protocol);
        const ctx = { deliveryStreams, requestId: call.requestId };
        authorize(call.identity, `firehose:${name}`, operation.resource(input, ctx));
        return operation.handle(input, ctx);
      }
      const ctx = { store, requestId: call.requestId, ...(functions ? { functions } : {}) };
      for (const [prefix, operations] of riffleServices) {
        if (!call.target.startsWith(prefix)) continue;
        const name = call.target.slice(prefix.length);
        const operation = operations.get(name);
        if (!operation) throw new AwsError('UnknownOperationException', '');
        const input = operation.validate(call.input as Record<string, unknown>);
        authorize(call.identity, `riffle:${name}`, operation.resource(input, ctx));
        return operation.handle(input, ctx);
      }
      const name = call.target.startsWith(KINESIS_TARGET_PREFIX) ? call.target.slice(KINESIS_TARGET_PREFIX.length) : undefined;
      const operation = name === undefined ? undefined : kinesisOperations.get(name);
      if (!operation || name === undefined) throw new AwsError('UnknownOperationException', '');
      const input = call.input instanceof ValidatedInput ? call.input.value : kinesisValidator.validateRequest(name, call.input, call.protocol);
      authorize(call.identity, `kinesis:${name}`, operation.resource(input, ctx));
      return operation.handle(input, ctx);
    },
  };
}
