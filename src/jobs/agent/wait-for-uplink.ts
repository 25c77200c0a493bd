import type { RedisClient } from '../../redis-client.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { readTunnelStatus } from '../../tunnels/index.ts';
import type { UplinkForward } from './uplink-forward.ts';

/** Whether a proxy's uplink came up, and if not, what was seen, naming the proxy. */
export type UplinkVerdict = { up: true } | { up: false; reason: string };

/**
 * Polls the tunnel status a tunnel node publishes in Redis (any node may hold the proxy) until the
 * uplink forward is `up`, or `timeoutMs` passes. Never throws for a forward that stays down.
 */
export async function waitForUplink(
  redis: RedisClient,
  keyPrefix: string,
  proxy: Proxy,
  forward: UplinkForward,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<UplinkVerdict> {
  const prepare = `outpost prepare-proxy ${proxy.id} --project ${proxy.project}`;
  // No tunnel node connects to a proxy whose host key was never pinned: say so now, not after the wait.
  if (!proxy.hostKey)
    return {
      up: false,
      reason: `proxy ${proxy.id} was never prepared: it has no pinned host key, so no tunnel node connects to it; prepare it with \`${prepare} --user USER --password-file FILE\` (or --key-file)`,
    };
  const deadline = Date.now() + options.timeoutMs;
  const what = `uplink of proxy ${proxy.id} (${forward.bindAddress}:${forward.bindPort} on the proxy -> ${forward.targetHost}:${forward.targetPort})`;
  let seen = 'no tunnel node holds the proxy (is a node with the tunnels role running?)';
  for (;;) {
    const status = await readTunnelStatus(redis, keyPrefix, proxy.id).catch(() => undefined);
    if (status) {
      const found = status.forwards.find((f) => f.id === forward.id);
      if (found?.state === 'up') return { up: true };
      const error = found?.lastCheck?.ok === false ? found.lastCheck.error : status.lastError;
      seen = `connection to proxy ${proxy.id} ${status.state}${found ? `, forward ${found.state}` : ', forward not set up'}${error ? `: ${error}` : ''}`;
    }
    if (Date.now() >= deadline || options.signal?.aborted === true)
      return {
        up: false,
        reason: `${what} not up within ${Math.round(options.timeoutMs / 1000)} s: ${seen}${
          proxy.selfTest?.ok
            ? ''
            : `; proxy ${proxy.id} was never prepared (no passing self-test): prepare it with \`${prepare}\``
        }`,
      };
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}
