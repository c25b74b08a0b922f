import { streamRef, streamResource, type KinesisOperation, type StreamAddress } from './operation.js';

export interface IncreaseStreamRetentionPeriodInput extends StreamAddress {
  RetentionPeriodHours: number;
}

export const increaseStreamRetentionPeriod: KinesisOperation<IncreaseStreamRetentionPeriodInput> = {
  name: 'IncreaseStreamRetentionPeriod',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    store.describeActive(ref);
    await store.setRetention(ref, input.RetentionPeriodHours, 'increase');
    return {};
  },
};
