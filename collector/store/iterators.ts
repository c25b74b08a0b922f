/**
 * Shard iterators: opaque to clients, sealed with AES-256-GCM under a per-data-dir key so they
 * cannot be forged or edited, and carrying their issue time so they expire after 5 minutes as
 * Kinesis iterators do.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AwsError } from '../../shared/errors.js';

/** Kinesis: "A shard iterator expires 5 minutes after it is returned to the requester." */
export const ITERATOR_LIFETIME_MS = 5 * 60 * 1000;

export interface IteratorPosition {
  streamName: string;
  streamCreatedMs: number;
  shardNumber: number;
  /** The next ordinal to read. */
  ordinal: number;
  issuedMs: number;
}

export class IteratorCodec {
  constructor(private readonly key: Buffer) {}

  encode(position: IteratorPosition): string {
    const plain = Buffer.from(
      JSON.stringify([position.streamName, position.streamCreatedMs, position.shardNumber, position.ordinal, position.issuedMs]),
    );
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.from([1]), nonce, cipher.getAuthTag(), sealed]).toString('base64');
  }

  /** Throws InvalidArgumentException (forged/garbled) or ExpiredIteratorException as AWS. */
  decode(iterator: string, nowMs: number): IteratorPosition {
    const position = this.open(iterator);
    if (!position) throw new AwsError('InvalidArgumentException', 'Invalid ShardIterator.');
    if (nowMs - position.issuedMs > ITERATOR_LIFETIME_MS) {
      throw new AwsError(
        'ExpiredIteratorException',
        `Iterator expired. The iterator was created at time ${amzUtcString(position.issuedMs)} while right now it is ${amzUtcString(nowMs)} which is further in the future than the tolerated delay of ${ITERATOR_LIFETIME_MS} milliseconds.`,
      );
    }
    return position;
  }

  private open(iterator: string): IteratorPosition | undefined {
    const raw = Buffer.from(iterator, 'base64');
    if (raw.length < 30 || raw[0] !== 1) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 13));
      decipher.setAuthTag(raw.subarray(13, 29));
      const plain = Buffer.concat([decipher.update(raw.subarray(29)), decipher.final()]);
      const [streamName, streamCreatedMs, shardNumber, ordinal, issuedMs] = JSON.parse(plain.toString()) as [string, number, number, number, number];
      return { streamName, streamCreatedMs, shardNumber, ordinal, issuedMs };
    } catch {
      return undefined;
    }
  }
}

/** AWS's date form in iterator messages: "Thu Jan 22 01:22:02 UTC 2015". */
function amzUtcString(ms: number): string {
  const match = /^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/.exec(new Date(ms).toUTCString());
  if (!match) return new Date(ms).toISOString();
  const [, day, date, month, year, time] = match;
  return `${day} ${month} ${date} ${time} UTC ${year}`;
}
