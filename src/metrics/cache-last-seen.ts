import type { MetricsBackend } from './metrics-backend.ts';

/** Options of {@link cacheLastSeen}. */
export interface LastSeenCacheOptions {
  /** How long one answer is reused. Default 5000 ms. */
  ttlMs?: number;
  /** How far back InfluxDB is searched. Default 24 h. */
  windowMs?: number;
}

/** The last time each host's metrics were seen, or why that is unknown right now. */
export type LastSeen = { ok: true; byHost: Map<string, string> } | { ok: false; error: string };

/**
 * Wraps {@link MetricsBackend.lastSeenByHost} in a short cache, so listing hosts often (a dashboard, a
 * watch loop) costs InfluxDB one query per `ttlMs`; concurrent callers share one query. Never rejects.
 */
export function cacheLastSeen(
  backend: MetricsBackend,
  options: LastSeenCacheOptions = {},
): () => Promise<LastSeen> {
  const ttlMs = options.ttlMs ?? 5_000;
  const windowMs = options.windowMs ?? 24 * 3600_000;
  let cached: { at: number; value: Promise<LastSeen> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= ttlMs) {
      cached = {
        at: now,
        value: backend.lastSeenByHost(new Date(now - windowMs)).then(
          (byHost): LastSeen => ({ ok: true, byHost }),
          (error: unknown): LastSeen => ({ ok: false, error: (error as Error).message }),
        ),
      };
    }
    return cached.value;
  };
}
