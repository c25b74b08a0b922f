import { AwsError } from '../../../shared/errors.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface DeleteStreamInput extends StreamAddress {
  /** Without it, registered enhanced fan-out consumers refuse the delete; with it, they go with the stream. */
  EnforceConsumerDeletion?: boolean;
}

export const deleteStream: KinesisOperation<DeleteStreamInput> = {
  name: 'DeleteStream',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const consumers = store.describe(ref).consumers ?? [];
    if (consumers.length > 0 && input.EnforceConsumerDeletion !== true) {
      throw new AwsError('ResourceInUseException', `Stream ${store.nameOf(ref)} under account ${store.accountId} has ${consumers.length} registered consumers; deregister them or pass EnforceConsumerDeletion.`);
    }
    await store.deleteStream(ref);
    return {};
  },
};
