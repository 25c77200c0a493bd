import { CONFIG_TAG, type HostPoint, type MetricsBackend } from './metrics-backend.ts';

/** How a deploy's proof ended for one host. */
export type MetricsVerdict =
  | { state: 'reporting'; firstPointAt: string; points: HostPoint[] }
  | { state: 'not-reporting'; reason: string };

/** Options of {@link waitForFirstMetrics}. */
export interface WaitOptions {
  /** Only points at or after this time count (the play's start). */
  since: Date;
  /** Only points carrying this configuration id (tag `outpost_config`) count: the agent runs this deploy's configuration. */
  config?: string;
  /** Give up after this long. Default 60 s. */
  timeoutMs?: number;
  /** Poll interval. Default 1 s. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Polls InfluxDB until `host` has written a point since `since` (tagged with `config`, when given) —
 * the proof a deploy worked — or the time is up. Never throws for a silent host: that is a verdict,
 * with what was checked.
 */
export async function waitForFirstMetrics(
  backend: MetricsBackend,
  host: string,
  options: WaitOptions,
): Promise<MetricsVerdict> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: string | undefined;
  for (;;) {
    try {
      const firstPointAt = await backend.firstSeen(host, options.since, options.config);
      if (firstPointAt !== undefined) {
        return { state: 'reporting', firstPointAt, points: await backend.latestPoints(host, options.since) };
      }
      lastError = undefined;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() >= deadline || options.signal?.aborted === true) {
      const tagged = options.config === undefined ? '' : ` ${CONFIG_TAG}=${JSON.stringify(options.config)}`;
      const checked = `no agent_* point with host=${JSON.stringify(host)}${tagged} in ${backend.kind} at ${backend.url} within ${Math.round(timeoutMs / 1000)} s of ${options.since.toISOString()}`;
      return {
        state: 'not-reporting',
        reason: lastError === undefined ? checked : `${checked}; last query failed: ${lastError}`,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
  }
}
