import type { StreamMode } from '../../store/metadata.js';
import { checkTags } from './add-tags-to-stream.js';
import type { KinesisOperation } from './operation.js';
import { checkWarmThroughput } from './update-stream-warm-throughput.js';

export interface CreateStreamInput {
  StreamName: string;
  ShardCount?: number;
  StreamModeDetails?: { StreamMode: StreamMode };
  Tags?: Record<string, string>;
  WarmThroughputMiBps?: number;
  MaxRecordSizeInKiB?: number;
}

export const createStream: KinesisOperation<CreateStreamInput> = {
  name: 'CreateStream',
  resource: (input, { store }) => store.streamArn(input.StreamName),
  async handle(input, { store }) {
    // With neither a ShardCount nor a mode, AWS creates an ON_DEMAND stream.
    const mode = input.StreamModeDetails?.StreamMode ?? (input.ShardCount === undefined ? 'ON_DEMAND' : 'PROVISIONED');
    if (input.Tags) checkTags(input.Tags);
    if (input.WarmThroughputMiBps !== undefined) checkWarmThroughput(store, mode, input.WarmThroughputMiBps);
    await store.createStream({
      name: input.StreamName,
      mode,
      ...(input.ShardCount !== undefined ? { shardCount: input.ShardCount } : {}),
      ...(input.Tags ? { tags: input.Tags } : {}),
      ...(input.WarmThroughputMiBps !== undefined ? { warmThroughputMiBps: input.WarmThroughputMiBps } : {}),
      ...(input.MaxRecordSizeInKiB !== undefined ? { maxRecordSizeKiB: input.MaxRecordSizeInKiB } : {}),
    });
    return {};
  },
};
