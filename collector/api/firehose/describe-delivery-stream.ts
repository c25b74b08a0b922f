import { destinationSpecs } from '../../delivery/destinations/index.js';
import type { DeliveryStreamMeta } from '../../delivery/metadata.js';
import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface DescribeDeliveryStreamInput {
  DeliveryStreamName: string;
  Limit?: number;
  ExclusiveStartDestinationId?: string;
}

export const describeDeliveryStream: FirehoseOperation<DescribeDeliveryStreamInput> = {
  name: 'DescribeDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const meta = deliveryStreams.get(input.DeliveryStreamName);
    // One destination per delivery stream: a start past it leaves none.
    const destinations = input.ExclusiveStartDestinationId !== undefined && input.ExclusiveStartDestinationId >= meta.destination.id ? [] : [describeDestination(meta)];
    return {
      DeliveryStreamDescription: {
        DeliveryStreamName: meta.name,
        DeliveryStreamARN: deliveryStreams.arn(meta.name),
        DeliveryStreamStatus: meta.status,
        DeliveryStreamEncryptionConfiguration: {
          Status: meta.encryption.status,
          ...(meta.encryption.keyType ? { KeyType: meta.encryption.keyType } : {}),
          ...(meta.encryption.keyArn ? { KeyARN: meta.encryption.keyArn } : {}),
        },
        DeliveryStreamType: meta.type,
        VersionId: String(meta.versionId),
        CreateTimestamp: new Date(meta.createdMs),
        ...(meta.lastUpdateMs !== undefined ? { LastUpdateTimestamp: new Date(meta.lastUpdateMs) } : {}),
        ...(meta.kinesisSource
          ? {
              Source: {
                KinesisStreamSourceDescription: {
                  KinesisStreamARN: meta.kinesisSource.streamArn,
                  RoleARN: meta.kinesisSource.roleArn,
                  DeliveryStartTimestamp: new Date(meta.kinesisSource.deliveryStartMs),
                },
              },
            }
          : {}),
        Destinations: destinations,
        HasMoreDestinations: false,
      },
    };
  },
};

function describeDestination(meta: DeliveryStreamMeta): Record<string, unknown> {
  const spec = destinationSpecs.get(meta.destination.kind)!;
  const { config } = meta.destination;
  return { DestinationId: meta.destination.id, [spec.descriptionMember]: spec.describe?.(config) ?? config, ...(spec.describeExtras?.(config) ?? {}) };
}
