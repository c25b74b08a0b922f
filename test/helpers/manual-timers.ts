/** Timers (a shared/clock.ts Schedule) that fire only when the test says so. */
import type { Schedule } from '../../shared/clock.js';

export class ManualTimers {
  private callbacks = new Set<() => void>();
  readonly schedule: Schedule = (_delayMillis, callback) => {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  };
  get armed(): number {
    return this.callbacks.size;
  }
  fireAll(): void {
    const due = [...this.callbacks];
    this.callbacks.clear();
    for (const callback of due) callback();
  }
}
