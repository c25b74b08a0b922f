/**
 * The benchmark's correctness check must be able to fail: the GetRecords scanner reads what
 * JSON.parse would, and the tallies notice a lost, altered or misrouted record.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { base64DecodedLength, scanGetRecordsAnswer } from './get-records-scanner.js';
import { addToTally, tallyMismatches, type ShardTallies } from './shard-tally.js';

function tally(entries: Array<[string, string]>): ShardTallies {
  const tallies: ShardTallies = {};
  for (const [shardId, base64] of entries) addToTally(tallies, shardId, crc32(base64), Buffer.from(base64, 'base64').length);
  return tallies;
}

describe('scanGetRecordsAnswer', () => {
  const records = [1, 2, 3, 1024].map((size, index) => ({
    SequenceNumber: `4960${index}`,
    ApproximateArrivalTimestamp: 1700000000.123,
    Data: randomBytes(size).toString('base64'),
    // A partition key that spells a member name must not be read as one.
    PartitionKey: index === 0 ? 'Data' : 'SequenceNumber',
  }));

  it('finds what JSON.parse finds, in either member order and with whitespace', () => {
    const answers = [
      JSON.stringify({ Records: records, NextShardIterator: 'AAAA/next+==', MillisBehindLatest: 0 }),
      JSON.stringify({ NextShardIterator: 'AAAA/next+==', Records: records.map(({ PartitionKey, Data, SequenceNumber }) => ({ PartitionKey, Data, SequenceNumber })) }),
      JSON.stringify({ Records: records, NextShardIterator: 'AAAA/next+==' }, null, 2),
    ];
    for (const text of answers) {
      const body = Buffer.from(text);
      const scanned = scanGetRecordsAnswer(body);
      expect(scanned.nextShardIterator).toBe('AAAA/next+==');
      expect(scanned.records.map((r) => r.sequenceNumber)).toEqual(records.map((r) => r.SequenceNumber));
      expect(scanned.records.map((r) => body.toString('latin1', r.dataStart, r.dataEnd))).toEqual(records.map((r) => r.Data));
      expect(scanned.records.map((r) => base64DecodedLength(body, r.dataStart, r.dataEnd))).toEqual(records.map((r) => Buffer.from(r.Data, 'base64').length));
    }
  });

  it('reads an empty page and a closed shard', () => {
    const scanned = scanGetRecordsAnswer(Buffer.from(JSON.stringify({ Records: [], MillisBehindLatest: 0 })));
    expect(scanned).toEqual({ records: [] });
  });
});

describe('tallyMismatches', () => {
  const acknowledged: Array<[string, string]> = [
    ['shardId-000000000000', randomBytes(16).toString('base64')],
    ['shardId-000000000000', randomBytes(16).toString('base64')],
    ['shardId-000000000001', randomBytes(16).toString('base64')],
  ];

  it('accepts the same records in any order', () => {
    expect(tallyMismatches(tally(acknowledged), tally([...acknowledged].reverse()))).toEqual([]);
  });

  it('reports a lost record, an altered one and a misrouted one', () => {
    const [first, second, third] = acknowledged as [[string, string], [string, string], [string, string]];
    const altered = Buffer.from(second[1], 'base64');
    altered[0]! ^= 1;
    expect(tallyMismatches(tally(acknowledged), tally([first, third]))).toHaveLength(1);
    expect(tallyMismatches(tally(acknowledged), tally([first, [second[0], altered.toString('base64')], third]))).toHaveLength(1);
    expect(tallyMismatches(tally(acknowledged), tally([first, [third[0], second[1]], third]))).toHaveLength(2);
  });
});
