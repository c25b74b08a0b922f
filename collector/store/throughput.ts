/**
 * Per-shard throughput enforcement as Kinesis does it for provisioned shards.
 * Kinesis quotas: writes 1 MiB/s and 1,000 records/s per shard; reads 2 MiB/s and
 * 5 GetRecords calls/s per shard. A `multiplier` scales them (an appliance may want raw speed);
 * `off` disables enforcement.
 */
export type ShardLimitsSetting = { enabled: false } | { enabled: true; multiplier: number };

const WRITE_BYTES_PER_SEC = 1024 * 1024;
const WRITE_RECORDS_PER_SEC = 1000;
const READ_BYTES_PER_SEC = 2 * 1024 * 1024;
const READ_CALLS_PER_SEC = 5;

/** A token bucket holding one second of allowance that refills continuously. */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = perSecond;
    this.updatedMs = nowMs;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedMs);
    this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
    this.updatedMs = nowMs;
  }

  tryTake(amount: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }

  /** Whether any allowance is left (the balance may go negative after a large take). */
  hasAllowance(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens > 0;
  }

  /** How long until some allowance is back (0 when there is some now). */
  msUntilAllowance(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens > 0 ? 0 : Math.ceil(((-this.tokens + 1) * 1000) / this.perSecond);
  }

  takeAllowingDebt(amount: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= amount;
  }
}

export class ShardThroughput {
  private readonly writeBytes: TokenBucket;
  private readonly writeRecords: TokenBucket;
  private readonly readBytes: TokenBucket;
  private readonly readCalls: TokenBucket;
  /** Writes refused since the last look — ON_DEMAND streams split shards that keep refusing. */
  throttledWrites = 0;

  /** `multiplier` undefined: enforcement off, everything is admitted. */
  constructor(
    private readonly multiplier: number | undefined,
    nowMs: number,
  ) {
    multiplier ??= 1;
    this.writeBytes = new TokenBucket(WRITE_BYTES_PER_SEC * multiplier, nowMs);
    this.writeRecords = new TokenBucket(WRITE_RECORDS_PER_SEC * multiplier, nowMs);
    this.readBytes = new TokenBucket(READ_BYTES_PER_SEC * multiplier, nowMs);
    this.readCalls = new TokenBucket(READ_CALLS_PER_SEC * multiplier, nowMs);
  }

  /** Takes allowance for one record of `bytes` (data + partition key), or refuses it whole. */
  admitWrite(bytes: number, nowMs: number): boolean {
    if (this.multiplier === undefined) return true;
    if (!this.writeRecords.tryTake(1, nowMs)) {
      this.throttledWrites++;
      return false;
    }
    if (!this.writeBytes.tryTake(bytes, nowMs)) {
      this.writeRecords.takeAllowingDebt(-1, nowMs); // give the record token back
      this.throttledWrites++;
      return false;
    }
    return true;
  }

  /** A GetRecords call is admitted while calls/s remain and the byte allowance is not overdrawn. */
  admitRead(nowMs: number): boolean {
    if (this.multiplier === undefined) return true;
    return this.readBytes.hasAllowance(nowMs) && this.readCalls.tryTake(1, nowMs);
  }

  /** Charges what a GetRecords returned; a 10 MiB read overdraws and blocks reads for seconds, as AWS. */
  chargeRead(bytes: number, nowMs: number): void {
    if (this.multiplier === undefined) return;
    this.readBytes.takeAllowingDebt(bytes, nowMs);
  }
}
