/**
 * The sinks' hand-written PutRecords / PutRecordBatch bodies: byte for byte what the general
 * AWS JSON encoder (shared/aws-wire.ts, which the collector's tests cover) writes for the same
 * records — partition keys that need escaping or are not ASCII, explicit hash keys, empty and
 * binary data of every length modulo 3.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeRecordsBody } from '../../agent/sinks/records-body.js';
import { PackedRecords } from '../../agent/buffer/packed-records.js';
import type { SinkRecord } from '../../agent/sinks/sink.js';
import { encodeAwsBody } from '../../shared/aws-wire.js';

const awkwardKeys = ['device-1', 'quote " and backslash \\', 'tab\tnewline\n\u0001', 'üñïçødé ✓', '😀 astral', 'lone \ud800 surrogate', 'x'.repeat(256)];

function records(): SinkRecord[] {
  return awkwardKeys.flatMap((partitionKey, i) => [
    { data: randomBytes(i * 7), partitionKey },
    { data: randomBytes(i * 7 + 1), partitionKey, explicitHashKey: String(2n ** 127n + BigInt(i)) },
    { data: randomBytes(i * 7 + 2), partitionKey },
  ]);
}

describe('records bodies', () => {
  it('PutRecords: the same bytes as encodeAwsBody, keys and explicit hash keys included', () => {
    const batch = records();
    const body = encodeRecordsBody({ streamMember: 'StreamName', partitionKeys: true }, 'logs "prod"', PackedRecords.from(batch));
    const reference = encodeAwsBody(
      {
        StreamName: 'logs "prod"',
        Records: batch.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey, ...(r.explicitHashKey !== undefined ? { ExplicitHashKey: r.explicitHashKey } : {}) })),
      },
      'json',
    );
    expect(body.toString('utf8')).toBe(reference.toString('utf8'));
    const parsed = JSON.parse(body.toString('utf8')) as { Records: Array<{ Data: string; PartitionKey: string }> };
    expect(parsed.Records.map((r) => Buffer.from(r.Data, 'base64'))).toEqual(batch.map((r) => r.data));
    expect(parsed.Records.map((r) => r.PartitionKey)).toEqual(batch.map((r) => r.partitionKey));
  });

  it('PutRecordBatch: only Data per entry, and a batch of one', () => {
    const batch = records();
    for (const list of [batch, batch.slice(0, 1)]) {
      const body = encodeRecordsBody({ streamMember: 'DeliveryStreamName', partitionKeys: false }, 'to-s3', PackedRecords.from(list));
      const reference = encodeAwsBody({ DeliveryStreamName: 'to-s3', Records: list.map((r) => ({ Data: r.data })) }, 'json');
      expect(body.equals(reference)).toBe(true);
    }
  });
});
