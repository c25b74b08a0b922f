import { requireKms, type StreamEncryptionInput } from './start-stream-encryption.js';
import { streamRef, streamResource, type KinesisOperation } from './operation.js';

export const stopStreamEncryption: KinesisOperation<StreamEncryptionInput> = {
  name: 'StopStreamEncryption',
  resource: streamResource,
  async handle(input, { store }) {
    requireKms(input.EncryptionType);
    const ref = streamRef(input);
    store.describeActive(ref);
    // "Stopping encryption is an asynchronous operation": UPDATING, then ACTIVE with encryption off.
    await store.updateSettingsAfterDelay(ref, { encryption: { type: 'NONE' } });
    return {};
  },
};
