import { AwsError } from '../../../shared/errors.js';
import type { StreamMode } from '../../store/metadata.js';
import { streamRef, streamResource, type KinesisOperation } from './operation.js';
import { checkWarmThroughput } from './update-stream-warm-throughput.js';

export interface UpdateStreamModeInput {
  StreamARN: string;
  StreamModeDetails: { StreamMode: StreamMode };
  WarmThroughputMiBps?: number;
}

export const updateStreamMode: KinesisOperation<UpdateStreamModeInput> = {
  name: 'UpdateStreamMode',
  resource: streamResource,
  async handle(input, { store }) {
    const ref = streamRef(input);
    const meta = store.describeActive(ref);
    const mode = input.StreamModeDetails.StreamMode;
    if (meta.mode === mode) {
      throw new AwsError('InvalidArgumentException', `Stream ${meta.name} under account ${store.accountId} is already in ${mode} capacity mode.`);
    }
    // "This field is only valid when the stream mode is being updated to on-demand." (UpdateStreamMode API reference)
    if (input.WarmThroughputMiBps !== undefined) checkWarmThroughput(store, mode, input.WarmThroughputMiBps);
    await store.updateStreamMode(ref, mode, input.WarmThroughputMiBps);
    return {};
  },
};
