/**
 * Delivery-stream metadata and delivery checkpoints, kept in `level` under
 * `<data-dir>/delivery/meta`.
 *
 * Invariants: every write is synchronous (`sync: true`): a delivery stream the API acknowledged,
 * and a checkpoint the engine advanced, survive a power cut. A delivery stream's whole
 * description is one JSON value written in one put, so an UpdateDestination is all or nothing.
 * A checkpoint is written only after the destination durably has the data it covers.
 *
 * Keys: `delivery-stream!<name>` → DeliveryStreamMeta JSON · `checkpoint!<name>` → Checkpoint JSON ·
 * `source!<name>` → SourceCheckpoint JSON (KinesisStreamAsSource: how far the stream was copied
 * into the buffer log; written only after the buffer log synced what it covers).
 */
import { Level } from 'level';

export type DeliveryStreamStatus = 'CREATING' | 'ACTIVE' | 'DELETING';
export type DeliveryStreamType = 'DirectPut' | 'KinesisStreamAsSource';

export interface DeliveryStreamMeta {
  name: string;
  createdMs: number;
  lastUpdateMs?: number;
  status: DeliveryStreamStatus;
  type: DeliveryStreamType;
  /** Starts at 1, +1 for every UpdateDestination and encryption change (AWS: the version in object names). */
  versionId: number;
  tags: Array<{ Key: string; Value?: string }>;
  encryption: { status: 'ENABLED' | 'DISABLED'; keyType?: 'AWS_OWNED_CMK' | 'CUSTOMER_MANAGED_CMK'; keyArn?: string };
  /** KinesisStreamAsSource: the Riffle stream read and where reading started. */
  kinesisSource?: { streamArn: string; roleArn: string; startingPosition: 'TRIM_HORIZON' | 'LATEST'; deliveryStartMs: number };
  destination: DestinationMeta;
}

export interface DestinationMeta {
  /** AWS numbers destinations `destinationId-000000000001`; a delivery stream has one. */
  id: string;
  /** The destination's registry key (collector/delivery/destinations/index.ts), e.g. `ExtendedS3`. */
  kind: string;
  /** The configuration in AWS's wire form with defaults filled in — what Describe shows. */
  config: Record<string, unknown>;
}

/** How far the engine has durably delivered. */
export interface Checkpoint {
  /** Every buffer-log ordinal below this is delivered (or in the error output). */
  bufferOrdinal: number;
}

/** KinesisStreamAsSource: per shard id, the last sequence number copied, or SHARD_END once a closed shard is drained. */
export type SourceCheckpoint = Record<string, string>;

export const SHARD_END = 'SHARD_END';

export class DeliveryMetadataStore {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(path: string): Promise<DeliveryMetadataStore> {
    const db = new Level<string, string>(path, { valueEncoding: 'utf8' });
    await db.open();
    return new DeliveryMetadataStore(db);
  }

  async loadDeliveryStreams(): Promise<DeliveryStreamMeta[]> {
    const streams: DeliveryStreamMeta[] = [];
    for await (const value of this.db.values({ gt: 'delivery-stream!', lt: 'delivery-stream"' })) streams.push(JSON.parse(value) as DeliveryStreamMeta);
    return streams;
  }

  async saveDeliveryStream(meta: DeliveryStreamMeta): Promise<void> {
    await this.db.put(`delivery-stream!${meta.name}`, JSON.stringify(meta), { sync: true });
  }

  async deleteDeliveryStream(name: string): Promise<void> {
    await this.db.batch(
      [
        { type: 'del', key: `delivery-stream!${name}` },
        { type: 'del', key: `checkpoint!${name}` },
        { type: 'del', key: `source!${name}` },
      ],
      { sync: true },
    );
  }

  async loadCheckpoint(name: string): Promise<Checkpoint> {
    const value = await this.db.get(`checkpoint!${name}`);
    return value === undefined ? { bufferOrdinal: 0 } : (JSON.parse(value) as Checkpoint);
  }

  async saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.db.put(`checkpoint!${name}`, JSON.stringify(checkpoint), { sync: true });
  }

  async loadSourceCheckpoint(name: string): Promise<SourceCheckpoint> {
    const value = await this.db.get(`source!${name}`);
    return value === undefined ? {} : (JSON.parse(value) as SourceCheckpoint);
  }

  async saveSourceCheckpoint(name: string, checkpoint: SourceCheckpoint): Promise<void> {
    await this.db.put(`source!${name}`, JSON.stringify(checkpoint), { sync: true });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
