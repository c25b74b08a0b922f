/**
 * Reading a benchmark's settings: a flag (`--file-mb 150`) beats its environment variable
 * (`BENCH_FILE_MB=150`), which beats the benchmark's default.
 */
export interface BenchSettings<Flag extends string> {
  setting(flag: Flag): string | undefined;
  positive(flag: Flag, fallback: number): number;
  whole(flag: Flag, fallback: number): number;
  /** A comma-separated choice among `known`, all of them by default. */
  listOf<Name extends string>(flag: Flag, known: readonly Name[]): Name[];
}

export function benchSettings<Flag extends string>(values: Partial<Record<Flag, string | undefined>>, env: NodeJS.ProcessEnv): BenchSettings<Flag> {
  const setting = (flag: Flag) => values[flag] ?? env[`BENCH_${flag.toUpperCase().replaceAll('-', '_')}`];
  const positive = (flag: Flag, fallback: number): number => {
    const raw = setting(flag);
    const value = raw === undefined ? fallback : Number(raw);
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${flag} must be a positive number, got ${String(raw)}`);
    return value;
  };
  return {
    setting,
    positive,
    whole: (flag, fallback) => Math.max(1, Math.round(positive(flag, fallback))),
    listOf: (flag, known) =>
      (setting(flag) ?? known.join(',')).split(',').map((name) => {
        if (!known.includes(name as (typeof known)[number])) throw new Error(`--${flag}: unknown ${name} (known: ${known.join(', ')})`);
        return name as (typeof known)[number];
      }),
  };
}
