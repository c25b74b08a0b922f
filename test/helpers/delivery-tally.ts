/**
 * What arrived compared with what was sent: the agent's end-to-end tests promise "nothing lost,
 * duplicates bounded" (or exactly once), so they count, per expected item, how often it arrived.
 */
export interface DeliveryTally {
  /** Expected items that never arrived, in the order expected. */
  missing: string[];
  /** Arrivals beyond the first of an item. */
  duplicates: number;
  /** Arrivals of items that were never expected. */
  unexpected: string[];
}

export function tallyDelivery(expected: readonly string[], received: readonly string[]): DeliveryTally {
  const counts = new Map<string, number>(expected.map((item) => [item, 0]));
  const unexpected: string[] = [];
  let duplicates = 0;
  for (const item of received) {
    const count = counts.get(item);
    if (count === undefined) unexpected.push(item);
    else {
      if (count > 0) duplicates++;
      counts.set(item, count + 1);
    }
  }
  return { missing: expected.filter((item) => counts.get(item) === 0), duplicates, unexpected };
}

/** How often each item arrived. */
export function countArrivals(received: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of received) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** True once every expected item arrived at least once. */
export function allArrived(expected: readonly string[], received: readonly string[]): boolean {
  const seen = new Set(received);
  return expected.every((item) => seen.has(item));
}

/** One line for a timeout message: how many are missing, duplicated, unexpected, with the first few of each. */
export function describeDelivery(expected: readonly string[], received: readonly string[]): string {
  const { missing, duplicates, unexpected } = tallyDelivery(expected, received);
  const firstFew = (items: string[]) => (items.length > 0 ? ` (first: ${items.slice(0, 3).map((item) => JSON.stringify(item.slice(0, 60))).join(', ')})` : '');
  return `${missing.length} missing${firstFew(missing)}, ${duplicates} duplicates, ${unexpected.length} unexpected${firstFew(unexpected)}`;
}
