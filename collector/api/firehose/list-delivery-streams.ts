import type { DeliveryStreamType } from '../../delivery/metadata.js';
import type { FirehoseOperation } from './operation.js';

export interface ListDeliveryStreamsInput {
  Limit?: number;
  DeliveryStreamType?: DeliveryStreamType;
  ExclusiveStartDeliveryStreamName?: string;
}

// ListDeliveryStreams: Limit defaults to 10 (Firehose API reference).
const DEFAULT_LIMIT = 10;

export const listDeliveryStreams: FirehoseOperation<ListDeliveryStreamsInput> = {
  name: 'ListDeliveryStreams',
  resource: () => undefined,
  async handle(input, { deliveryStreams }) {
    const start = input.ExclusiveStartDeliveryStreamName;
    const names = deliveryStreams
      .list(input.DeliveryStreamType)
      .map((meta) => meta.name)
      .filter((name) => start === undefined || name > start);
    const limit = input.Limit ?? DEFAULT_LIMIT;
    return { DeliveryStreamNames: names.slice(0, limit), HasMoreDeliveryStreams: names.length > limit };
  },
};
