/** Reads one value from a collector's GET /metrics (Prometheus text). */

/** The value of `series` (a metric name, with `{labels}` as rendered if it has them); 0 when absent. */
export async function readMetric(endpoint: string, series: string): Promise<number> {
  const response = await fetch(`${endpoint}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered HTTP ${response.status}`);
  const text = await response.text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
