/**
 * Bounded polling of observable state: how the end-to-end tests wait for other processes (a
 * status file, a stream, a log line) — never a fixed sleep. The condition is checked every
 * `intervalMs` until it holds or `timeoutMs` has passed; the error names what was awaited and,
 * if given, what was last seen.
 */
export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Describes the state when the wait times out (e.g. how many records had arrived). */
  describe?: () => string | Promise<string>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_INTERVAL_MS = 50;

/** Calls `attempt` until it returns something other than `undefined` or `false`, and returns that. */
export async function pollUntil<T>(what: string, attempt: () => T | Promise<T>, options: PollOptions = {}): Promise<Exclude<T, undefined | false>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined && result !== false) return result as Exclude<T, undefined | false>;
    if (Date.now() > deadline) {
      const seen = options.describe ? ` (last seen: ${await options.describe()})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? DEFAULT_INTERVAL_MS));
  }
}
