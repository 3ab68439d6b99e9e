/**
 * The benchmark's few statistics, in one place so every section reads its percentiles the
 * same way: nearest-rank quantiles over the samples of one run, and figures set against the
 * same run's ingest p50.
 */

/**
 * The q-quantile (0 ≤ q ≤ 1) by nearest rank: the smallest sample with at least q of the
 * samples at or below it, so p50 of [1, 2, 3, 4] is 2 and p95 of 20 samples is the 19th.
 * NaN when there are no samples.
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(rank - 1, 0))];
}

/** How many samples there were, and their median, 95th and 99th percentiles. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

/** The {@link Summary} of a run's samples. */
export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: quantile(samples, 0.5),
    p95: quantile(samples, 0.95),
    p99: quantile(samples, 0.99),
  };
}

/**
 * One line for a latency against the run's baseline p50, e.g.
 * `p50 25.1 ms, p95 40.2 ms: ratio 2.11 (200 samples)`.
 */
export function describeAgainst(s: Summary, baselineP50: number): string {
  return `p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms: ratio ` +
    `${(s.p50 / baselineP50).toFixed(2)} (${s.n} samples)`;
}
