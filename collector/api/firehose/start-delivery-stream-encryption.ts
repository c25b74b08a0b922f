import { AwsError } from '../../../shared/errors.js';
import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface StartDeliveryStreamEncryptionInput {
  DeliveryStreamName: string;
  DeliveryStreamEncryptionConfigurationInput?: { KeyType: 'AWS_OWNED_CMK' | 'CUSTOMER_MANAGED_CMK'; KeyARN?: string };
}

/**
 * Server-side encryption is state only: Riffle records it (records carry the encrypted flag and
 * PutRecord answers Encrypted: true) but has no KMS; data at rest is as safe as the disk.
 */
export const startDeliveryStreamEncryption: FirehoseOperation<StartDeliveryStreamEncryptionInput> = {
  name: 'StartDeliveryStreamEncryption',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const config = input.DeliveryStreamEncryptionConfigurationInput;
    if (config?.KeyType === 'CUSTOMER_MANAGED_CMK' && !config.KeyARN) {
      throw new AwsError('InvalidArgumentException', 'KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.');
    }
    if (config?.KeyType === 'AWS_OWNED_CMK' && config.KeyARN) {
      throw new AwsError('InvalidArgumentException', 'KeyARN must not be given when KeyType is AWS_OWNED_CMK.');
    }
    await deliveryStreams.update(input.DeliveryStreamName, (meta) => {
      if (meta.type !== 'DirectPut') {
        throw new AwsError('InvalidArgumentException', `Server-side encryption is not supported for firehose ${meta.name} of type ${meta.type}.`);
      }
      return {
        ...meta,
        encryption: { status: 'ENABLED', keyType: config?.KeyType ?? 'AWS_OWNED_CMK', ...(config?.KeyARN ? { keyArn: config.KeyARN } : {}) },
      };
    });
    return {};
  },
};
