/**
 * The collector's own Firehose delivery streams as the rules' FirehoseTarget: the same path as a
 * PutRecordBatch call on the API (backlog allowance, durable buffer log), so a rule's record is
 * acknowledged to the device once it is fdatasync'd in the delivery stream's buffer.
 */
import { putRecordBatch } from '../../api/firehose/put-record-batch.js';
import type { DeliveryStreams } from '../../delivery/delivery-streams.js';
import type { FirehoseTarget } from './targets.js';

interface PutRecordBatchOutput {
  RequestResponses: Array<{ RecordId: string } | { ErrorCode: string; ErrorMessage: string }>;
}

export function deliveryStreamsTarget(deliveryStreams: DeliveryStreams): FirehoseTarget {
  return {
    async putRecordBatch(deliveryStreamName, records) {
      const output = (await putRecordBatch.handle(
        { DeliveryStreamName: deliveryStreamName, Records: records.map((Data) => ({ Data })) },
        { deliveryStreams, requestId: 'mqtt-rule' },
      )) as PutRecordBatchOutput;
      return output.RequestResponses.map((response) => ('RecordId' in response ? { recordId: response.RecordId } : { errorCode: response.ErrorCode, errorMessage: response.ErrorMessage }));
    },
  };
}
