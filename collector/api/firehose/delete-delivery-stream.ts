import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface DeleteDeliveryStreamInput {
  DeliveryStreamName: string;
  /** Forces deletion when a customer-managed KMS key is unusable; Riffle has no KMS, so deletion never waits on one. */
  AllowForceDelete?: boolean;
}

export const deleteDeliveryStream: FirehoseOperation<DeleteDeliveryStreamInput> = {
  name: 'DeleteDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    await deliveryStreams.delete(input.DeliveryStreamName);
    return {};
  },
};
