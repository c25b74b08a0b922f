import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface DecreaseStreamRetentionPeriodInput extends StreamAddress {
  RetentionPeriodHours: number;
}

export const decreaseStreamRetentionPeriod: KinesisOperation<DecreaseStreamRetentionPeriodInput> = {
  name: 'DecreaseStreamRetentionPeriod',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    store.describeActive(ref);
    await store.setRetention(ref, input.RetentionPeriodHours, 'decrease');
    return {};
  },
};
