/**
 * Metadata — streams, shards and their lineage, tags, settings — kept in `level` under
 * `<data-dir>/meta`.
 *
 * Invariants: every write is synchronous (`sync: true`), so a change the API acknowledged survives
 * a power cut; a stream's whole description is one JSON value, written in one put, so a crash
 * never leaves half a reshard.
 *
 * Keys: `stream!<name>` → StreamMeta JSON · `account` → AccountSettings JSON ·
 * `iterator-key` → 32 random bytes (hex) that seal shard iterators ·
 * `lease!<application>!<stream>!<shardId>` → Lease JSON (collector/store/leases.ts).
 */
import { randomBytes } from 'node:crypto';
import { Level } from 'level';

export type StreamStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING';
export type StreamMode = 'PROVISIONED' | 'ON_DEMAND';

export interface ShardMeta {
  shardNumber: number;
  /** Decimal strings: JSON has no 128-bit integers. */
  startingHashKey: string;
  endingHashKey: string;
  parentShardNumber?: number;
  adjacentParentShardNumber?: number;
  createdMs: number;
  /** Set when a reshard closed the shard; its log takes no more appends. */
  closedMs?: number;
  /** With closedMs: the ordinal of its last record (−1 when it had none). */
  lastOrdinal?: number;
}

/**
 * A change accepted by the API and waiting out the UPDATING delay. It is persisted with the
 * UPDATING status, so a restart in between applies it instead of losing it.
 */
export type PendingUpdate =
  | { kind: 'split'; shardNumber: number; newStartingHashKey: string }
  | { kind: 'merge'; shardNumber: number; adjacentShardNumber: number }
  | { kind: 'scale'; targetShardCount: number }
  | { kind: 'mode'; mode: StreamMode; warmThroughputMiBps?: number }
  | { kind: 'settings'; encryption?: StreamMeta['encryption']; warmThroughputMiBps?: number };

/** An enhanced fan-out consumer (RegisterStreamConsumer), kept with its stream. */
export interface ConsumerMeta {
  name: string;
  createdMs: number;
  status: 'CREATING' | 'ACTIVE' | 'DELETING';
  tags?: Record<string, string>;
  resourcePolicy?: string;
}

export interface StreamMeta {
  name: string;
  createdMs: number;
  status: StreamStatus;
  mode: StreamMode;
  retentionHours: number;
  shards: ShardMeta[];
  nextShardNumber: number;
  tags: Record<string, string>;
  encryption: { type: 'NONE' | 'KMS'; keyId?: string };
  enhancedMonitoring: string[];
  resourcePolicy?: string;
  maxRecordSizeKiB: number;
  modeLastUpdatedMs?: number;
  warmThroughputMiBps?: number;
  pendingUpdate?: PendingUpdate;
  consumers?: ConsumerMeta[];
}

export interface AccountSettings {
  minimumThroughputBillingCommitment?: { status: 'ENABLED' | 'DISABLED'; startedMs?: number; endedMs?: number; earliestEndMs?: number };
}

export class MetadataStore {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(path: string): Promise<MetadataStore> {
    const db = new Level<string, string>(path, { valueEncoding: 'utf8' });
    await db.open();
    return new MetadataStore(db);
  }

  async loadStreams(): Promise<StreamMeta[]> {
    const streams: StreamMeta[] = [];
    for await (const value of this.db.values({ gt: 'stream!', lt: 'stream"' })) streams.push(JSON.parse(value) as StreamMeta);
    return streams;
  }

  async saveStream(stream: StreamMeta): Promise<void> {
    await this.db.put(`stream!${stream.name}`, JSON.stringify(stream), { sync: true });
  }

  async deleteStream(name: string): Promise<void> {
    await this.db.del(`stream!${name}`, { sync: true });
  }

  async loadAccountSettings(): Promise<AccountSettings> {
    const value = await this.db.get('account');
    return value === undefined ? {} : (JSON.parse(value) as AccountSettings);
  }

  async saveAccountSettings(settings: AccountSettings): Promise<void> {
    await this.db.put('account', JSON.stringify(settings), { sync: true });
  }

  async loadLeases(): Promise<string[]> {
    const leases: string[] = [];
    for await (const value of this.db.values({ gt: 'lease!', lt: 'lease"' })) leases.push(value);
    return leases;
  }

  async saveLease(key: string, value: string): Promise<void> {
    await this.db.put(`lease!${key}`, value, { sync: true });
  }

  async deleteLeases(keys: string[]): Promise<void> {
    await this.db.batch(keys.map((key) => ({ type: 'del' as const, key: `lease!${key}` })), { sync: true });
  }

  /** The secret that seals shard iterators; made once per data dir. */
  async iteratorKey(): Promise<Buffer> {
    const existing = await this.db.get('iterator-key');
    if (existing !== undefined) return Buffer.from(existing, 'hex');
    const key = randomBytes(32);
    await this.db.put('iterator-key', key.toString('hex'), { sync: true });
    return key;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
