/**
 * Retry timing: the one place it lives. Sinks only report `retry` (throttled or not); the
 * pipeline asks a Backoff, one per flow and destination, how long to wait.
 *
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): after the n-th failure in a row the wait is uniform in [0, min(max, initial · 2^(n−1))],
 * so many devices that lost the collector at the same moment do not come back in step.
 * `initial` and `max` are the Kinesis Agent's per-flow `retryInitialBackoffMillis` and
 * `retryMaxBackoffMillis`.
 *
 * Throttling is slower: the service said the stream is over its quota, and hammering it only
 * produces more throttling. Each throttled failure raises a throttling level that adds to the
 * exponent, so the ceiling grows 4× per throttled failure instead of 2×, and the wait is drawn
 * from the upper half of it (never an immediate retry). The level also outlives the failures:
 * after a success, `delayBeforeSend` keeps pacing new sends, halving its ceiling with each
 * success, so a throttled flow slows down rather than going back to full speed into the limit.
 */

// Kinesis Agent defaults for retryInitialBackoffMillis and retryMaxBackoffMillis
// (amazon-kinesis-agent Constants.java; "Agent configuration settings" in the Kinesis Agent docs).
export const DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS = 100;
export const DEFAULT_RETRY_MAX_BACKOFF_MILLIS = 10_000;

export interface BackoffOptions {
  /** The ceiling of the first wait, in ms (integer ≥ 1). */
  retryInitialBackoffMillis: number;
  /** No wait is longer, in ms (≥ retryInitialBackoffMillis). */
  retryMaxBackoffMillis: number;
  /** Uniform in [0, 1). Default Math.random; tests inject a seeded one. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMillis: number;
  private readonly maxMillis: number;
  private readonly random: () => number;
  /** Exponent at which the ceiling reaches maxMillis; no counter needs to go past it. */
  private readonly levelsToMax: number;
  private failures = 0;
  private throttling = 0;

  constructor(options: BackoffOptions) {
    const { retryInitialBackoffMillis: initial, retryMaxBackoffMillis: max } = options;
    if (!Number.isInteger(initial) || initial < 1) throw new RangeError(`retryInitialBackoffMillis must be an integer ≥ 1, got ${initial}`);
    if (!Number.isInteger(max) || max < initial) throw new RangeError(`retryMaxBackoffMillis must be an integer ≥ retryInitialBackoffMillis (${initial}), got ${max}`);
    this.initialMillis = initial;
    this.maxMillis = max;
    this.random = options.random ?? Math.random;
    this.levelsToMax = Math.ceil(Math.log2(max / initial));
  }

  /** Failed sends since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** How hard the service has been throttling lately (0: not at all). */
  get throttlingLevel(): number {
    return this.throttling;
  }

  /** A send came back `retry`: records the failure and returns the wait in ms before re-sending. */
  failed(throttled: boolean): number {
    this.failures += 1;
    if (throttled) this.throttling = Math.min(this.throttling + 1, this.levelsToMax + 1);
    const ceiling = this.ceiling(Math.min(this.failures - 1, this.levelsToMax) + this.throttling);
    return throttled ? this.upperHalfJitter(ceiling) : this.fullJitter(ceiling);
  }

  /** A send was accepted: the failure count starts over; throttling eases by one level. */
  succeeded(): void {
    this.failures = 0;
    this.throttling = Math.max(0, this.throttling - 1);
  }

  /** The wait in ms before sending new data: 0 unless the service throttled us recently. */
  delayBeforeSend(): number {
    return this.throttling === 0 ? 0 : this.fullJitter(this.ceiling(this.throttling - 1));
  }

  private ceiling(exponent: number): number {
    return Math.min(this.maxMillis, this.initialMillis * 2 ** exponent);
  }

  /** Uniform over the integers 0..ceiling. */
  private fullJitter(ceiling: number): number {
    return Math.floor(this.random() * (ceiling + 1));
  }

  /** Uniform over the integers ⌈ceiling/2⌉..ceiling. */
  private upperHalfJitter(ceiling: number): number {
    const low = Math.ceil(ceiling / 2);
    return low + Math.floor(this.random() * (ceiling - low + 1));
  }
}
