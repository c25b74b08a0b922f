import { AwsError } from '../../../shared/errors.js';
import { consumerOutput } from './consumer-address.js';
import { decodeNextToken, encodeNextToken } from './next-token.js';
import type { KinesisOperation } from './operation.js';

export interface ListStreamConsumersInput {
  StreamARN: string;
  NextToken?: string;
  MaxResults?: number;
  StreamCreationTimestamp?: Date;
}

/** ListStreamConsumers MaxResults: "The default value is 100." (API reference) */
const DEFAULT_CONSUMERS_PER_PAGE = 100;

interface ListStreamConsumersPage {
  /** Consumers already listed. */
  offset: number;
}

function isListStreamConsumersPage(page: unknown): page is ListStreamConsumersPage {
  return typeof page === 'object' && page !== null && Number.isSafeInteger((page as Record<string, unknown>).offset);
}

export const listStreamConsumers: KinesisOperation<ListStreamConsumersInput> = {
  name: 'ListStreamConsumers',
  resource: (input) => input.StreamARN,
  async handle(input, { store }) {
    const now = store.now();
    const offset = input.NextToken !== undefined ? decodeNextToken(input.NextToken, now, isListStreamConsumersPage).offset : 0;
    const consumers = store.consumers.list(input.StreamARN);
    // StreamCreationTimestamp tells apart streams that had the same name (ListStreamConsumers API reference).
    const stream = store.describe({ streamArn: input.StreamARN });
    if (input.StreamCreationTimestamp !== undefined && Math.floor(input.StreamCreationTimestamp.getTime() / 1000) !== Math.floor(stream.createdMs / 1000)) {
      throw new AwsError('ResourceNotFoundException', `Stream ${stream.name} under account ${store.accountId} with creation time ${input.StreamCreationTimestamp.toISOString()} not found.`);
    }
    const limit = input.MaxResults ?? DEFAULT_CONSUMERS_PER_PAGE;
    const page = consumers.slice(offset, offset + limit);
    const hasMore = offset + limit < consumers.length;
    return {
      Consumers: page.map(consumerOutput),
      ...(hasMore ? { NextToken: encodeNextToken({ offset: offset + limit } satisfies ListStreamConsumersPage, now) } : {}),
    };
  },
};
