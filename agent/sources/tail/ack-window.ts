/**
 * One file's in-flight records and its checkpoint watermark.
 *
 * Each record the source emits from a file gets the file's next sequence number and is
 * remembered by the byte offset where it ends. Records settle in any order (batches of other
 * records finish first, a retried batch finishes last); the committed offset moves only over a
 * contiguous run of settled records from the oldest, so a checkpoint never passes a record that
 * is not safe — a watermark, not "the highest batch sent".
 *
 * Memory: 9 bytes per in-flight record (a Float64 end offset and a settled flag) in a ring that
 * grows by doubling and shrinks when empty; the pipeline's backpressure bounds how many records are in flight.
 */

const INITIAL_CAPACITY = 256;

export class AckWindow {
  private ends = new Float64Array(INITIAL_CAPACITY);
  private settledFlags = new Uint8Array(INITIAL_CAPACITY);
  /** Ring index of the oldest in-flight record. */
  private head = 0;
  private count = 0;
  /** Sequence number of the oldest in-flight record. */
  private firstSequence = 0;
  private committed: number;

  constructor(startOffset: number) {
    this.committed = startOffset;
  }

  /** The offset below which every byte is settled (or needed no acknowledgement). */
  get committedOffset(): number {
    return this.committed;
  }

  get inFlight(): number {
    return this.count;
  }

  /** Registers a record that ends at `endOffset`; returns its sequence number. */
  push(endOffset: number): number {
    if (this.count === this.ends.length) this.grow();
    const index = (this.head + this.count) % this.ends.length;
    this.ends[index] = endOffset;
    this.settledFlags[index] = 0;
    this.count++;
    return this.firstSequence + this.count - 1;
  }

  /**
   * Bytes up to `offset` carry no record (skipped header lines): they commit with the newest
   * in-flight record, or at once when nothing is in flight (then true: the committed offset moved).
   */
  skipTo(offset: number): boolean {
    if (this.count > 0) {
      this.ends[(this.head + this.count - 1) % this.ends.length] = offset;
      return false;
    }
    if (offset <= this.committed) return false;
    this.committed = offset;
    return true;
  }

  /**
   * Marks sequence numbers [from, to] settled. Numbers already committed or never issued are
   * ignored (a duplicate acknowledgement is harmless). Returns whether the committed offset moved.
   */
  settle(from: number, to: number): boolean {
    const last = Math.min(to, this.firstSequence + this.count - 1);
    for (let sequence = Math.max(from, this.firstSequence); sequence <= last; sequence++) {
      this.settledFlags[(this.head + sequence - this.firstSequence) % this.ends.length] = 1;
    }
    const before = this.committed;
    while (this.count > 0 && this.settledFlags[this.head] === 1) {
      this.committed = this.ends[this.head]!;
      this.head = (this.head + 1) % this.ends.length;
      this.count--;
      this.firstSequence++;
    }
    if (this.count === 0 && this.ends.length > INITIAL_CAPACITY) {
      // A burst is over: give its memory back.
      this.ends = new Float64Array(INITIAL_CAPACITY);
      this.settledFlags = new Uint8Array(INITIAL_CAPACITY);
      this.head = 0;
    }
    return this.committed !== before;
  }

  private grow(): void {
    const capacity = this.ends.length * 2;
    const ends = new Float64Array(capacity);
    const flags = new Uint8Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.ends.length;
      ends[i] = this.ends[from]!;
      flags[i] = this.settledFlags[from]!;
    }
    this.ends = ends;
    this.settledFlags = flags;
    this.head = 0;
  }
}
