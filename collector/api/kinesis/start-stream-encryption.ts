import { AwsError } from '../../../shared/errors.js';
import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface StreamEncryptionInput extends StreamAddress {
  EncryptionType: 'NONE' | 'KMS';
  KeyId: string;
}

/**
 * Records are not encrypted here (there is no KMS); the stream keeps and reports the setting, and
 * records written while it is on carry EncryptionType KMS, as on AWS.
 */
export const startStreamEncryption: KinesisOperation<StreamEncryptionInput> = {
  name: 'StartStreamEncryption',
  resource: streamResource,
  async handle(input, { store }) {
    requireKms(input.EncryptionType);
    const ref = streamRef(input);
    store.describeActive(ref);
    // "Starting encryption is an asynchronous operation": UPDATING, then ACTIVE with encryption on.
    await store.updateSettingsAfterDelay(ref, { encryption: { type: 'KMS', keyId: input.KeyId } });
    return {};
  },
};

/** Start/StopStreamEncryption: "The only valid value is KMS." */
export function requireKms(encryptionType: string): void {
  if (encryptionType !== 'KMS') {
    throw new AwsError('InvalidArgumentException', `Invalid EncryptionType ${encryptionType}. The only valid value is KMS.`);
  }
}
