/**
 * What was acknowledged vs what reads back, per shard: a record count, the data bytes, and an
 * order-independent checksum (the sum mod 2^32 of each record's CRC-32), so a lost, duplicated,
 * corrupted or misrouted record shows up without keeping every record in memory.
 *
 * The CRC is of the record's Data as base64 text on the wire: base64 is canonical (one text per
 * byte string, as every server here writes it), so equal texts mean equal data, and the reader
 * never has to decode.
 */
export interface ShardTally {
  records: number;
  dataBytes: number;
  crcSum: number;
}

export type ShardTallies = Record<string, ShardTally>;

export function addToTally(tallies: ShardTallies, shardId: string, dataCrc: number, dataBytes: number): void {
  const tally = (tallies[shardId] ??= { records: 0, dataBytes: 0, crcSum: 0 });
  tally.records++;
  tally.dataBytes += dataBytes;
  tally.crcSum = (tally.crcSum + dataCrc) >>> 0;
}

export function mergeTallies(a: ShardTallies, b: ShardTallies): ShardTallies {
  const merged: ShardTallies = structuredClone(a);
  for (const [shardId, tally] of Object.entries(b)) {
    const into = (merged[shardId] ??= { records: 0, dataBytes: 0, crcSum: 0 });
    into.records += tally.records;
    into.dataBytes += tally.dataBytes;
    into.crcSum = (into.crcSum + tally.crcSum) >>> 0;
  }
  return merged;
}

export function totalRecords(tallies: ShardTallies): number {
  return Object.values(tallies).reduce((sum, tally) => sum + tally.records, 0);
}

/** One line per shard whose tallies differ; empty when everything acknowledged was read back intact. */
export function tallyMismatches(acknowledged: ShardTallies, readBack: ShardTallies): string[] {
  const shardIds = [...new Set([...Object.keys(acknowledged), ...Object.keys(readBack)])].sort();
  const empty: ShardTally = { records: 0, dataBytes: 0, crcSum: 0 };
  return shardIds.flatMap((shardId) => {
    const acked = acknowledged[shardId] ?? empty;
    const read = readBack[shardId] ?? empty;
    if (acked.records === read.records && acked.dataBytes === read.dataBytes && acked.crcSum === read.crcSum) return [];
    return [
      `${shardId}: acknowledged ${acked.records} records / ${acked.dataBytes} B / crc-sum ${acked.crcSum}, read back ${read.records} / ${read.dataBytes} B / ${read.crcSum}`,
    ];
  });
}
