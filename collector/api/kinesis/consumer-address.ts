/** How DescribeStreamConsumer, DeregisterStreamConsumer and SubscribeToShard name a consumer, and its wire form. */
import type { ConsumerAddress, ConsumerView } from '../../store/consumers.js';

export interface ConsumerAddressInput {
  ConsumerARN?: string;
  StreamARN?: string;
  ConsumerName?: string;
}

export function consumerAddress(input: ConsumerAddressInput): ConsumerAddress {
  return {
    ...(input.ConsumerARN !== undefined ? { consumerArn: input.ConsumerARN } : {}),
    ...(input.StreamARN !== undefined ? { streamArn: input.StreamARN } : {}),
    ...(input.ConsumerName !== undefined ? { consumerName: input.ConsumerName } : {}),
  };
}

/** The ARN access policies see: the consumer's when given, else its stream's. */
export function consumerResource(input: ConsumerAddressInput): string | undefined {
  return input.ConsumerARN ?? input.StreamARN;
}

/** The `Consumer` structure of RegisterStreamConsumer and ListStreamConsumers. */
export function consumerOutput(view: ConsumerView): Record<string, unknown> {
  return {
    ConsumerName: view.consumer.name,
    ConsumerARN: view.consumerArn,
    ConsumerStatus: view.consumer.status,
    ConsumerCreationTimestamp: new Date(view.consumer.createdMs),
  };
}
