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

export const SEQUENCE_NUMBER_CHARS = LENGTH;

/**
 * Writes `sequenceNumber(shardNumber, ordinal)` as ASCII into `buffer` at `at`, without making
 * the string (a PutRecords answer writes 500 of them); returns the offset after it.
 */
export function writeSequenceNumber(buffer: Uint8Array, at: number, shardNumber: number, ordinal: number): number {
  buffer[at] = 0x34; // '4'
  buffer[at + 1] = 0x39; // '9'
  writeDigits(buffer, at + PREFIX.length, SHARD_DIGITS, shardNumber);
  writeDigits(buffer, at + PREFIX.length + SHARD_DIGITS, ORDINAL_DIGITS, ordinal);
  return at + LENGTH;
}

/** `value` (a safe integer ≥ 0 of at most `width` digits) in decimal, zero-padded to `width`. */
function writeDigits(buffer: Uint8Array, at: number, width: number, value: number): void {
  let rest = value;
  let index = at + width - 1;
  // Divisions only for the significant digits: most of the 54 are padding zeros.
  for (; rest > 0 && index >= at; index--) {
    const quotient = Math.floor(rest / 10);
    buffer[index] = 0x30 + (rest - quotient * 10);
    rest = quotient;
  }
  for (; index >= at; index--) buffer[index] = 0x30;
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

const SHARD_ID_PREFIX = 'shardId-';
const SHARD_ID_DIGITS = 12;
export const SHARD_ID_CHARS = SHARD_ID_PREFIX.length + SHARD_ID_DIGITS;

export function shardIdFor(shardNumber: number): string {
  return SHARD_ID_PREFIX + String(shardNumber).padStart(SHARD_ID_DIGITS, '0');
}

/** Writes `shardIdFor(shardNumber)` as ASCII into `buffer` at `at`; returns the offset after it. */
export function writeShardId(buffer: Uint8Array, at: number, shardNumber: number): number {
  for (let index = 0; index < SHARD_ID_PREFIX.length; index++) buffer[at + index] = SHARD_ID_PREFIX.charCodeAt(index);
  writeDigits(buffer, at + SHARD_ID_PREFIX.length, SHARD_ID_DIGITS, shardNumber);
  return at + SHARD_ID_CHARS;
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
