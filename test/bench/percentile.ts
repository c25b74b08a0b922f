/** Nearest-rank percentile of ascending values (`fraction` 0.5 = p50); NaN when there are none. */
export function percentile(sortedAscending: readonly number[], fraction: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  return sortedAscending[Math.max(0, Math.min(sortedAscending.length - 1, Math.ceil(fraction * sortedAscending.length) - 1))]!;
}
