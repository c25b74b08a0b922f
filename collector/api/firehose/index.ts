/** Every Firehose operation the collector answers, by its `X-Amz-Target` name. */
import { createDeliveryStream } from './create-delivery-stream.js';
import { deleteDeliveryStream } from './delete-delivery-stream.js';
import { describeDeliveryStream } from './describe-delivery-stream.js';
import { listDeliveryStreams } from './list-delivery-streams.js';
import { listTagsForDeliveryStream } from './list-tags-for-delivery-stream.js';
import type { FirehoseOperation } from './operation.js';
import { putRecordBatch } from './put-record-batch.js';
import { putRecord } from './put-record.js';
import { startDeliveryStreamEncryption } from './start-delivery-stream-encryption.js';
import { stopDeliveryStreamEncryption } from './stop-delivery-stream-encryption.js';
import { tagDeliveryStream } from './tag-delivery-stream.js';
import { untagDeliveryStream } from './untag-delivery-stream.js';
import { updateDestination } from './update-destination.js';

const operations: FirehoseOperation[] = [
  createDeliveryStream,
  deleteDeliveryStream,
  describeDeliveryStream,
  listDeliveryStreams,
  listTagsForDeliveryStream,
  putRecord,
  putRecordBatch,
  startDeliveryStreamEncryption,
  stopDeliveryStreamEncryption,
  tagDeliveryStream,
  untagDeliveryStream,
  updateDestination,
];

export const firehoseOperations: ReadonlyMap<string, FirehoseOperation> = new Map(operations.map((operation) => [operation.name, operation]));
