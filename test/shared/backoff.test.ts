import { describe, expect, it } from 'vitest';
import { Backoff, DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS, DEFAULT_RETRY_MAX_BACKOFF_MILLIS } from '../../shared/backoff.js';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const initial = DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS;
const max = DEFAULT_RETRY_MAX_BACKOFF_MILLIS;
const options = { retryInitialBackoffMillis: initial, retryMaxBackoffMillis: max };
/** The largest value a [0, 1) source gives. */
const almostOne = () => 1 - Number.EPSILON;
const zero = () => 0;

function ceilingAfter(failures: number, throttling = 0): number {
  return Math.min(max, initial * 2 ** (failures - 1 + throttling));
}

describe('Backoff', () => {
  it('uses the Kinesis Agent defaults: 100 ms initial, 10 s max', () => {
    expect([DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS, DEFAULT_RETRY_MAX_BACKOFF_MILLIS]).toEqual([100, 10_000]);
  });

  it('doubles the ceiling per failure up to retryMaxBackoffMillis, with waits reaching down to 0', () => {
    const high = new Backoff({ ...options, random: almostOne });
    const low = new Backoff({ ...options, random: zero });
    for (let failure = 1; failure <= 12; failure++) {
      expect(high.failed(false)).toBe(ceilingAfter(failure));
      expect(low.failed(false)).toBe(0);
    }
    expect(high.consecutiveFailures).toBe(12);
  });

  it('starts over after a success', () => {
    const backoff = new Backoff({ ...options, random: almostOne });
    for (let i = 0; i < 5; i++) backoff.failed(false);
    backoff.succeeded();
    expect(backoff.consecutiveFailures).toBe(0);
    expect(backoff.delayBeforeSend()).toBe(0);
    expect(backoff.failed(false)).toBe(initial);
  });

  it('spreads waits uniformly over [0, ceiling] (full jitter)', () => {
    const backoff = new Backoff({ ...options, random: seededRandom(42) });
    for (let i = 0; i < 20; i++) backoff.failed(false); // well past the cap
    const samples = Array.from({ length: 20_000 }, () => backoff.failed(false));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(max);
    const mean = samples.reduce((sum, s) => sum + s, 0) / samples.length;
    expect(Math.abs(mean - max / 2)).toBeLessThan(max * 0.02);
    // each tenth of the range holds about a tenth of the waits
    const deciles = new Array<number>(10).fill(0);
    for (const sample of samples) deciles[Math.min(9, Math.floor((sample / (max + 1)) * 10))]! += 1;
    for (const count of deciles) expect(Math.abs(count / samples.length - 0.1)).toBeLessThan(0.015);
  });

  it('gives the same waits for the same random source', () => {
    const waits = (seed: number) => {
      const backoff = new Backoff({ ...options, random: seededRandom(seed) });
      return Array.from({ length: 10 }, (_, i) => backoff.failed(i % 3 === 0));
    };
    expect(waits(7)).toEqual(waits(7));
    expect(waits(7)).not.toEqual(waits(8));
  });

  it('backs off faster when throttled, and never retries a throttled send at once', () => {
    const high = new Backoff({ ...options, random: almostOne });
    const low = new Backoff({ ...options, random: zero });
    const plain = new Backoff({ ...options, random: almostOne });
    for (let failure = 1; failure <= 6; failure++) {
      const ceiling = ceilingAfter(failure, failure); // one throttling level per throttled failure
      expect(high.failed(true)).toBe(ceiling);
      expect(low.failed(true)).toBe(Math.ceil(ceiling / 2));
      expect(ceiling).toBeGreaterThanOrEqual(plain.failed(false));
    }
    expect(high.throttlingLevel).toBeGreaterThan(0);
  });

  it('keeps pacing new sends after throttling, easing off one level per success', () => {
    const backoff = new Backoff({ ...options, random: almostOne });
    backoff.failed(true);
    backoff.failed(true);
    backoff.failed(true);
    const paces: number[] = [];
    while (backoff.throttlingLevel > 0) {
      backoff.succeeded();
      paces.push(backoff.delayBeforeSend());
    }
    expect(paces).toEqual([2 * initial, initial, 0]);
    expect(backoff.failed(false)).toBe(initial);
  });

  it('refuses settings that cannot work', () => {
    expect(() => new Backoff({ retryInitialBackoffMillis: 0, retryMaxBackoffMillis: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ retryInitialBackoffMillis: 500, retryMaxBackoffMillis: 100 })).toThrow(RangeError);
  });
});
