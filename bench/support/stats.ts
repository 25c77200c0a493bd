/** Summary of a sample of numbers (milliseconds, seconds, bytes...). */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The nearest-rank percentile `p` (0..100) of `values`; NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** min, p50, p90, p99, max and mean of `values`. */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  return {
    n,
    min: n ? values.reduce((a, b) => Math.min(a, b)) : Number.NaN,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: n ? values.reduce((a, b) => Math.max(a, b)) : Number.NaN,
    mean: n ? values.reduce((sum, v) => sum + v, 0) / n : Number.NaN,
  };
}

/** Rounds for display: 2 decimals under 10, 1 under 1000, else whole. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs < 10 ? 2 : abs < 1000 ? 1 : 0;
  return Number(value.toFixed(digits));
}

/** Epoch milliseconds with sub-millisecond precision, comparable with other processes on this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The spread of a sample as max/min, to flag runs that need a re-run. */
export function spread(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((a, b) => Math.max(a, b)) / values.reduce((a, b) => Math.min(a, b));
}
