import type { Heartbeat, MetricsBackend } from '../../metrics/metrics-backend.ts';

/** An agent as its points show it: reporting this deploy's configuration, an older one, or silent. */
export type ObservedState = 'reporting' | 'reporting-old-config' | 'not-reporting';

/** The state `beat` shows for an agent that should carry `configId`. */
export function stateOf(beat: Heartbeat | undefined, configId: string | undefined): ObservedState {
  if (!beat) return 'not-reporting';
  return configId !== undefined && beat.config === configId ? 'reporting' : 'reporting-old-config';
}

/**
 * The newest heartbeat since `since` of each of `hosts`, polling until every host has one or
 * `waitUntil` (epoch ms) passes — so a host is called silent only after a whole window without points.
 * Never throws: an InfluxDB that does not answer leaves the hosts unobserved (empty map).
 */
export async function observeAgents(
  metrics: Pick<MetricsBackend, 'heartbeats'>,
  hosts: string[],
  options: { since: Date; waitUntil?: number; intervalMs?: number; signal?: AbortSignal },
): Promise<Map<string, Heartbeat>> {
  const seen = new Map<string, Heartbeat>();
  for (;;) {
    const beats = await metrics.heartbeats(options.since).catch(() => new Map<string, Heartbeat>());
    for (const host of hosts) {
      const beat = beats.get(host);
      if (beat) seen.set(host, beat);
    }
    const done = hosts.every((host) => seen.has(host));
    if (done || Date.now() >= (options.waitUntil ?? 0) || options.signal?.aborted === true) return seen;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
}
