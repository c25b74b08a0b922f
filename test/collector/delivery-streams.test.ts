/**
 * DeliveryStreams and the PutRecordBatch operation in-process: a stream whose destination is not
 * keeping up refuses records beyond its backlog allowance one by one (HTTP 200, FailedPutCount,
 * ServiceUnavailableException per record) instead of failing the whole call, and takes them again
 * once delivery frees room. (The collector's allowance is 1 GiB — too much to fill in a test.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { putRecordBatch } from '../../collector/api/firehose/put-record-batch.js';
import { DeliveryStreams } from '../../collector/delivery/delivery-streams.js';
import { extendedS3Destination } from '../../collector/delivery/destinations/extended-s3.js';
import { ManualClock } from '../../shared/clock.js';
import { pollUntil } from '../helpers/poll.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };
let streams: DeliveryStreams;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

beforeEach(async () => {
  dir = await makeTempDir('riffle-delivery-streams-');
  streams = await DeliveryStreams.open({ dataDir: dir.path, clock, region: 'us-east-1', accountId: '000000000000', statusDelayMs: 0, logger: () => {}, maxBacklogBytes: 10 });
});

afterEach(async () => {
  await streams.close();
  await dir.remove();
});

describe('backlog allowance', () => {
  it('fails the records past the allowance one by one, and accepts again after delivery', async () => {
    await streams.create({
      name: 'slow',
      type: 'DirectPut',
      tags: [],
      destination: { spec: extendedS3Destination, config: { BucketARN: 'arn:aws:s3:::slow-bucket', RoleARN: 'arn:aws:iam::000000000000:role/r', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 900 } } },
    });
    await pollUntil('ACTIVE', () => streams.get('slow').status === 'ACTIVE');
    const ctx = { deliveryStreams: streams, requestId: 'r' };
    const records = ['1234', '5678', '9abc'].map((text) => ({ Data: Buffer.from(text) }));
    const first = (await putRecordBatch.handle({ DeliveryStreamName: 'slow', Records: records }, ctx)) as { FailedPutCount: number; RequestResponses: Array<Record<string, string>> };
    expect(first.FailedPutCount).toBe(1);
    expect(first.RequestResponses[0]!.RecordId).toBeDefined();
    expect(first.RequestResponses[1]!.RecordId).toBeDefined();
    expect(first.RequestResponses[2]).toEqual({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
    expect(streams.metrics.get('slow', 'ThrottledRecords')).toBe(1);

    // The interval passes on the injected clock: the engine delivers and the allowance frees up.
    clock.advance(900_000);
    streams.engineOf('slow').notify();
    await pollUntil('the backlog delivered', () => streams.engineOf('slow').backlogRecords === 0);
    const again = (await putRecordBatch.handle({ DeliveryStreamName: 'slow', Records: [records[2]!] }, ctx)) as { FailedPutCount: number };
    expect(again.FailedPutCount).toBe(0);
    expect(streams.metrics.get('slow', 'DeliveryToS3.Records')).toBe(2);
  });
});
