import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface StopDeliveryStreamEncryptionInput {
  DeliveryStreamName: string;
}

export const stopDeliveryStreamEncryption: FirehoseOperation<StopDeliveryStreamEncryptionInput> = {
  name: 'StopDeliveryStreamEncryption',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    await deliveryStreams.update(input.DeliveryStreamName, (meta) => ({ ...meta, encryption: { status: 'DISABLED' } }));
    return {};
  },
};
