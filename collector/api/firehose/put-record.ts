import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface PutRecordInput {
  DeliveryStreamName: string;
  /** At most 1,000 KiB — the model's Data max (1,024,000 bytes) checks it. */
  Record: { Data: Buffer };
}

/**
 * A RecordId: unique per delivery stream across restarts and re-creation — the stream's creation
 * time and the record's buffer ordinal, as one 56-digit decimal string (AWS's are opaque strings
 * of that kind).
 */
export function recordIdOf(createdMs: number, ordinal: number): string {
  return String(createdMs).padStart(16, '0') + String(ordinal).padStart(40, '0');
}

export const putRecord: FirehoseOperation<PutRecordInput> = {
  name: 'PutRecord',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const meta = deliveryStreams.get(input.DeliveryStreamName);
    const { ordinal, encrypted } = await deliveryStreams.put(meta.name, [input.Record.Data]);
    return { RecordId: recordIdOf(meta.createdMs, ordinal), Encrypted: encrypted };
  },
};
