import type { LastSeen } from '../metrics/cache-last-seen.ts';

/** What a host listing adds to each host: when InfluxDB last saw its metrics, live. */
export interface MetricsStatus {
  /** Time of the host's newest point (ISO-8601), or null when InfluxDB has none in the window. */
  lastSeen: string | null;
  /** Set when InfluxDB could not be asked; lastSeen is then unknown (null). */
  error?: string;
}

/** Adds `metrics: { lastSeen }` to each host (objects with an `id`), from one cached InfluxDB query. */
export function withMetricsStatus(hosts: unknown[], lastSeen: LastSeen): unknown[] {
  return hosts.map((host) => {
    if (typeof host !== 'object' || host === null) return host;
    const id = (host as { id?: unknown }).id;
    const seen = lastSeen.ok && typeof id === 'string' ? lastSeen.byHost.get(id) : undefined;
    const metrics: MetricsStatus = lastSeen.ok
      ? { lastSeen: seen === undefined ? null : new Date(seen).toISOString() }
      : { lastSeen: null, error: lastSeen.error };
    return { ...host, metrics };
  });
}
