import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface DeleteStreamInput extends StreamAddress {
  /** Matters once streams can have registered consumers: without it, their presence refuses the delete. */
  EnforceConsumerDeletion?: boolean;
}

export const deleteStream: KinesisOperation<DeleteStreamInput> = {
  name: 'DeleteStream',
  resource: streamResource,
  async handle(input, { store }) {
    await store.deleteStream(streamRef(input));
    return {};
  },
};
