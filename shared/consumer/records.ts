/** Records as a processor sees them: Kinesis records with KPL aggregates opened (shared/kpl-aggregation.ts). */
import { deaggregate } from '../kpl-aggregation.js';
import type { WireRecord } from './api-client.js';

export interface ConsumerRecord {
  /** The Kinesis record's sequence number; user records of one aggregate share it. */
  sequenceNumber: string;
  /** Position inside a KPL aggregate (0 for a plain record). */
  subSequenceNumber: number;
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
  approximateArrivalTimestamp: Date;
  /** Whether it came out of a KPL aggregated record. */
  aggregated: boolean;
}

export function toConsumerRecords(records: readonly WireRecord[]): ConsumerRecord[] {
  const out: ConsumerRecord[] = [];
  for (const record of records) {
    const data = Buffer.from(record.Data, 'base64');
    const arrival = new Date(record.ApproximateArrivalTimestamp * 1000);
    const users = deaggregate(data);
    if (!users) {
      out.push({ sequenceNumber: record.SequenceNumber, subSequenceNumber: 0, partitionKey: record.PartitionKey, data, approximateArrivalTimestamp: arrival, aggregated: false });
      continue;
    }
    users.forEach((user, index) =>
      out.push({
        sequenceNumber: record.SequenceNumber,
        subSequenceNumber: index,
        partitionKey: user.partitionKey,
        ...(user.explicitHashKey !== undefined ? { explicitHashKey: user.explicitHashKey } : {}),
        data: user.data,
        approximateArrivalTimestamp: arrival,
        aggregated: true,
      }),
    );
  }
  return out;
}
