/** Runs `callback` once after `delayMillis`; the returned function cancels it. Tests pass one they fire by hand. */
export type Schedule = (delayMillis: number, callback: () => void) => () => void;

export const systemSchedule: Schedule = (delayMillis, callback) => {
  const timer = setTimeout(callback, delayMillis);
  return () => clearTimeout(timer);
};
