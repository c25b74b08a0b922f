import { AwsError } from '../../../shared/errors.js';
import { configurationMembers } from '../../delivery/destinations/index.js';
import type { DeliveryStreamType } from '../../delivery/metadata.js';
import { deliveryStreamResource, type FirehoseOperation } from './operation.js';
import { checkTagLimit, type WireTag } from './tag-delivery-stream.js';

export interface CreateDeliveryStreamInput {
  DeliveryStreamName: string;
  DeliveryStreamType?: DeliveryStreamType | string;
  KinesisStreamSourceConfiguration?: { KinesisStreamARN: string; RoleARN: string };
  DeliveryStreamEncryptionConfigurationInput?: { KeyType: 'AWS_OWNED_CMK' | 'CUSTOMER_MANAGED_CMK'; KeyARN?: string };
  Tags?: WireTag[];
  [destinationMember: string]: unknown;
}

/** Destination members of CreateDeliveryStreamInput that Riffle does not deliver to yet. */
const unsupportedDestinations = [
  'RedshiftDestinationConfiguration',
  'ElasticsearchDestinationConfiguration',
  'AmazonopensearchserviceDestinationConfiguration',
  'SplunkDestinationConfiguration',
  'HttpEndpointDestinationConfiguration',
  'AmazonOpenSearchServerlessDestinationConfiguration',
  'SnowflakeDestinationConfiguration',
  'IcebergDestinationConfiguration',
];

export const createDeliveryStream: FirehoseOperation<CreateDeliveryStreamInput> = {
  name: 'CreateDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const type = input.DeliveryStreamType ?? 'DirectPut';
    if (type !== 'DirectPut') {
      throw new AwsError('InvalidArgumentException', `DeliveryStreamType ${type} is not supported by Riffle yet; use DirectPut.`);
    }
    if (input.KinesisStreamSourceConfiguration) {
      throw new AwsError('InvalidArgumentException', 'KinesisStreamSourceConfiguration is only valid with DeliveryStreamType KinesisStreamAsSource.');
    }
    const given = Object.keys(input).filter((member) => configurationMembers.has(member) || unsupportedDestinations.includes(member));
    if (given.length !== 1) {
      throw new AwsError('InvalidArgumentException', 'Exactly one destination configuration must be specified.');
    }
    const member = given[0]!;
    const spec = configurationMembers.get(member);
    if (!spec) throw new AwsError('InvalidArgumentException', `${member} is not supported by Riffle yet.`);
    const tags = input.Tags ?? [];
    checkTagLimit(tags.length);
    const encryptionInput = input.DeliveryStreamEncryptionConfigurationInput;
    const meta = await deliveryStreams.create({
      name: input.DeliveryStreamName,
      type,
      destination: { spec, config: input[member] as Record<string, unknown> },
      tags: tags.map((tag) => ({ Key: tag.Key, ...(tag.Value !== undefined ? { Value: tag.Value } : {}) })),
      ...(encryptionInput
        ? { encryption: { status: 'ENABLED' as const, keyType: encryptionInput.KeyType, ...(encryptionInput.KeyARN ? { keyArn: encryptionInput.KeyARN } : {}) } }
        : {}),
    });
    return { DeliveryStreamARN: deliveryStreams.arn(meta.name) };
  },
};
