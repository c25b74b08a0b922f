import { AwsError, isAwsError } from '../../../shared/errors.js';
import type { DeliveryStreams } from '../../delivery/delivery-streams.js';
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
  'AmazonOpenSearchServerlessDestinationConfiguration',
  'SnowflakeDestinationConfiguration',
  'IcebergDestinationConfiguration',
];

/**
 * The Riffle stream a KinesisStreamAsSource delivery stream reads. AWS reads from the moment the
 * delivery stream is created (LATEST) and its API has no member to choose; in Riffle the tag
 * `riffle:starting-position` = `TRIM_HORIZON` starts at the oldest record instead — a tag,
 * because every client (SDKs, CLI) can send one unchanged.
 */
export const STARTING_POSITION_TAG = 'riffle:starting-position';

function checkSourceStream(deliveryStreams: DeliveryStreams, source: { KinesisStreamARN: string; RoleARN: string }, tags: WireTag[]) {
  const requested = tags.find((tag) => tag.Key === STARTING_POSITION_TAG)?.Value ?? 'LATEST';
  if (requested !== 'LATEST' && requested !== 'TRIM_HORIZON') {
    throw new AwsError('InvalidArgumentException', `Tag ${STARTING_POSITION_TAG} must be LATEST or TRIM_HORIZON, not ${requested}.`);
  }
  const store = deliveryStreams.streamStore;
  try {
    if (!store) throw new AwsError('ResourceNotFoundException', 'no streams');
    store.nameOf({ streamArn: source.KinesisStreamARN });
  } catch (error) {
    if (!isAwsError(error)) throw error;
    throw new AwsError('InvalidArgumentException', `Stream ${source.KinesisStreamARN} cannot be used as a source: ${error.message}`);
  }
  return { streamArn: source.KinesisStreamARN, roleArn: source.RoleARN, startingPosition: requested, deliveryStartMs: deliveryStreams.now() } as const;
}

export const createDeliveryStream: FirehoseOperation<CreateDeliveryStreamInput> = {
  name: 'CreateDeliveryStream',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const type = input.DeliveryStreamType ?? 'DirectPut';
    if (type !== 'DirectPut' && type !== 'KinesisStreamAsSource') {
      throw new AwsError('InvalidArgumentException', `DeliveryStreamType ${type} is not supported by Riffle yet; use DirectPut or KinesisStreamAsSource.`);
    }
    const source = input.KinesisStreamSourceConfiguration;
    if ((type === 'KinesisStreamAsSource') !== (source !== undefined)) {
      throw new AwsError('InvalidArgumentException', 'KinesisStreamSourceConfiguration is required with, and only valid with, DeliveryStreamType KinesisStreamAsSource.');
    }
    if (source && input.DeliveryStreamEncryptionConfigurationInput) {
      throw new AwsError('InvalidArgumentException', 'Server-side encryption is not supported for a delivery stream of type KinesisStreamAsSource.');
    }
    const kinesisSource = source ? checkSourceStream(deliveryStreams, source, input.Tags ?? []) : undefined;
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
      ...(kinesisSource ? { kinesisSource } : {}),
      tags: tags.map((tag) => ({ Key: tag.Key, ...(tag.Value !== undefined ? { Value: tag.Value } : {}) })),
      ...(encryptionInput
        ? { encryption: { status: 'ENABLED' as const, keyType: encryptionInput.KeyType, ...(encryptionInput.KeyARN ? { keyArn: encryptionInput.KeyARN } : {}) } }
        : {}),
    });
    return { DeliveryStreamARN: deliveryStreams.arn(meta.name) };
  },
};
