/**
 * Sequence numbers as Kinesis shows them: 56-digit decimal strings that sort by value within a
 * shard. Ours encode the shard and the record's ordinal in that shard's log:
 *
 *     "49" · shard number (14 digits) · ordinal (40 digits)
 *
 * so a sequence number names its shard (AT_SEQUENCE_NUMBER on the wrong shard is refused, as AWS
 * does) and maps to a log position without any lookup.
 */
import { AwsError } from '../../shared/errors.js';

const PREFIX = '49';
const SHARD_DIGITS = 14;
const ORDINAL_DIGITS = 40;
const LENGTH = PREFIX.length + SHARD_DIGITS + ORDINAL_DIGITS;

export function sequenceNumber(shardNumber: number, ordinal: number): string {
  return PREFIX + String(shardNumber).padStart(SHARD_DIGITS, '0') + String(ordinal).padStart(ORDINAL_DIGITS, '0');
}

export interface DecodedSequenceNumber {
  shardNumber: number;
  ordinal: number;
}

/** Undefined when the string is no sequence number this server issued. */
export function decodeSequenceNumber(value: string): DecodedSequenceNumber | undefined {
  if (value.length !== LENGTH || !value.startsWith(PREFIX) || !/^\d+$/.test(value)) return undefined;
  const shardNumber = Number(value.slice(PREFIX.length, PREFIX.length + SHARD_DIGITS));
  const ordinal = Number(value.slice(PREFIX.length + SHARD_DIGITS));
  if (!Number.isSafeInteger(ordinal)) return undefined;
  return { shardNumber, ordinal };
}

export function shardIdFor(shardNumber: number): string {
  return `shardId-${String(shardNumber).padStart(12, '0')}`;
}

export function shardNumberOf(shardId: string): number | undefined {
  const match = /^shardId-(\d{1,20})$/.exec(shardId);
  return match ? Number(match[1]) : undefined;
}

/** The sequence number a client passed for a shard, decoded, or InvalidArgumentException as AWS. */
export function ordinalForShard(value: string, shardNumber: number, streamName: string, parameter: string): number {
  const decoded = decodeSequenceNumber(value);
  if (!decoded) {
    throw new AwsError('InvalidArgumentException', `${parameter} ${value} used in GetShardIterator on shard ${shardIdFor(shardNumber)} in stream ${streamName} under account 000000000000 is invalid.`);
  }
  if (decoded.shardNumber !== shardNumber) {
    throw new AwsError(
      'InvalidArgumentException',
      `Invalid ${parameter}. It encodes ${shardIdFor(decoded.shardNumber)}, while it was used in a call to a shard with ${shardIdFor(shardNumber)}`,
    );
  }
  return decoded.ordinal;
}
