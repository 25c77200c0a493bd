import { describe, expect, it } from 'vitest';
import { computeBackoff } from '../../../src/tunnels/compute-backoff.ts';

describe('computeBackoff', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 10].map((n) => computeBackoff(n, { initialMs: 500, maxMs: 4000 }, top))).toEqual([
      500, 1000, 2000, 4000, 4000, 4000,
    ]);
  });

  it('spreads each delay over its jitter share so keepers do not retry in step', () => {
    const low = computeBackoff(3, { initialMs: 500, maxMs: 4000, jitter: 0.5 }, () => 0);
    const high = computeBackoff(3, { initialMs: 500, maxMs: 4000, jitter: 0.5 }, () => 0.999999);
    expect(low).toBe(2000);
    expect(high).toBe(4000);
    const seen = new Set(Array.from({ length: 50 }, () => computeBackoff(5)));
    expect(seen.size).toBeGreaterThan(10);
    for (const delay of seen) expect(delay).toBeGreaterThanOrEqual(2000);
  });

  it('never waits longer than the cap by default, so a returning proxy is retried within seconds', () => {
    for (let attempt = 0; attempt < 100; attempt++) expect(computeBackoff(attempt)).toBeLessThanOrEqual(4000);
  });
});
