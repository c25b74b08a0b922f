import { AwsError } from '../../../shared/errors.js';
import { decodeNextToken, encodeNextToken } from './next-token.js';
import type { KinesisOperation } from './operation.js';

export interface ListStreamsInput {
  Limit?: number;
  ExclusiveStartStreamName?: string;
  NextToken?: string;
}

/** ListStreams Limit: default 100; "If you specify a value greater than 100, at most 100 results are returned." */
const MAX_STREAMS_PER_PAGE = 100;

interface ListStreamsPage {
  afterStreamName: string;
}

function isListStreamsPage(page: unknown): page is ListStreamsPage {
  return typeof page === 'object' && page !== null && typeof (page as Record<string, unknown>).afterStreamName === 'string';
}

export const listStreams: KinesisOperation<ListStreamsInput> = {
  name: 'ListStreams',
  resource: () => undefined,
  async handle(input, { store }) {
    if (input.NextToken !== undefined && input.ExclusiveStartStreamName !== undefined) {
      throw new AwsError('InvalidArgumentException', 'NextToken and ExclusiveStartStreamName cannot be provided together.');
    }
    const now = store.now();
    const after = input.NextToken !== undefined ? decodeNextToken(input.NextToken, now, isListStreamsPage).afterStreamName : input.ExclusiveStartStreamName;
    const following = store.listStreams().filter((meta) => after === undefined || meta.name > after);
    const limit = Math.min(input.Limit ?? MAX_STREAMS_PER_PAGE, MAX_STREAMS_PER_PAGE);
    const page = following.slice(0, limit);
    const last = page[page.length - 1];
    const hasMore = following.length > limit;
    return {
      StreamNames: page.map((meta) => meta.name),
      HasMoreStreams: hasMore,
      ...(hasMore && last ? { NextToken: encodeNextToken({ afterStreamName: last.name } satisfies ListStreamsPage, now) } : {}),
      StreamSummaries: page.map((meta) => ({
        StreamName: meta.name,
        StreamARN: store.streamArn(meta.name),
        StreamStatus: meta.status,
        StreamModeDetails: { StreamMode: meta.mode },
        StreamCreationTimestamp: new Date(meta.createdMs),
      })),
    };
  },
};
