import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

/** The model addresses this operation by StreamARN only; the 1024–10240 KiB range is the model's. */
export interface UpdateMaxRecordSizeInput extends Pick<StreamAddress, 'StreamARN'> {
  MaxRecordSizeInKiB: number;
}

export const updateMaxRecordSize: KinesisOperation<UpdateMaxRecordSizeInput> = {
  name: 'UpdateMaxRecordSize',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    store.describeActive(ref);
    await store.updateMeta(ref, (meta) => (meta.maxRecordSizeKiB = input.MaxRecordSizeInKiB), { requireActive: true });
    return {};
  },
};
