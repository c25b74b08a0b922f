/** Time source. Everything that depends on time takes a Clock so tests can drive it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/** Runs `callback` once after `delayMillis`; the returned function cancels it. Tests pass one they fire by hand. */
export type Schedule = (delayMillis: number, callback: () => void) => () => void;

export const systemSchedule: Schedule = (delayMillis, callback) => {
  const timer = setTimeout(callback, delayMillis);
  return () => clearTimeout(timer);
};
