/**
 * Gathers the records that concurrent messages send to one target into batched calls: while a
 * call is in flight the next batch accumulates, so one fsync in the stream store covers many
 * devices' messages (the group commit the shard log does for API clients). One call per target at
 * a time also keeps the target's order the order in which messages arrived.
 */
import type { RuleFailure } from './failure.js';

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
}

interface Pending<T> {
  item: T;
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Sends a batch; per item, undefined for delivered or the failure. A throw fails the whole batch. */
export type SendBatch<T> = (items: T[]) => Promise<Array<RuleFailure | undefined>>;

export class Batcher<T> {
  private queue: Array<Pending<T>> = [];
  private sending = false;

  constructor(
    private readonly send: SendBatch<T>,
    private readonly limits: BatchLimits,
  ) {}

  /** Resolves once the target durably has `item`; rejects with its failure. */
  add(item: T, bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, bytes, resolve, reject });
      if (!this.sending) {
        this.sending = true;
        // Lets the other messages of this event-loop turn join the first batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        const outcomes = await this.send(batch.map((pending) => pending.item));
        batch.forEach((pending, i) => {
          const failure = outcomes[i];
          if (failure) pending.reject(failure);
          else pending.resolve();
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error as Error);
      }
    }
    this.sending = false;
  }

  private takeBatch(): Array<Pending<T>> {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.limits.maxRecords) {
      const next = this.queue[count]!;
      if (count > 0 && bytes + next.bytes > this.limits.maxBytes) break;
      bytes += next.bytes;
      count++;
    }
    return this.queue.splice(0, count);
  }
}
