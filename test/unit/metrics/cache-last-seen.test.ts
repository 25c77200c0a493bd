import { describe, expect, it } from 'vitest';
import { cacheLastSeen } from '../../../src/metrics/cache-last-seen.ts';
import type { MetricsBackend } from '../../../src/metrics/metrics-backend.ts';

function backend(answer: () => Promise<Map<string, string>>): MetricsBackend & { calls: number } {
  const b = {
    kind: 'influxdb' as const,
    url: 'http://127.0.0.1:1',
    calls: 0,
    ping: () => Promise.resolve(),
    ensureStore: () => Promise.resolve(),
    firstSeen: () => Promise.resolve(undefined),
    latestPoints: () => Promise.resolve([]),
    hostSeries: () => Promise.resolve([]),
    lastSeenByHost: () => {
      b.calls += 1;
      return answer();
    },
  };
  return b;
}

describe('cacheLastSeen', () => {
  it('asks InfluxDB once per period however often hosts are listed', async () => {
    const b = backend(() => Promise.resolve(new Map([['vm1', '2026-01-01T00:00:00Z']])));
    const lastSeen = cacheLastSeen(b, { ttlMs: 200 });
    const answers = await Promise.all([lastSeen(), lastSeen(), lastSeen()]);
    expect(answers[0]).toEqual({ ok: true, byHost: new Map([['vm1', '2026-01-01T00:00:00Z']]) });
    expect(b.calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await lastSeen();
    expect(b.calls).toBe(2);
  });

  it('turns an unavailable InfluxDB into an answer saying why, never a rejection', async () => {
    const lastSeen = cacheLastSeen(backend(() => Promise.reject(new Error('InfluxDB at x did not answer'))));
    expect(await lastSeen()).toEqual({ ok: false, error: 'InfluxDB at x did not answer' });
  });
});
