import type { Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import type { WantedTunnels } from '../../tunnels/index.ts';
import type { AgentDeps } from './agent-deps.ts';
import { readUplinkClaim } from './uplink-claims.ts';
import { uplinkForwardOf } from './uplink-forward.ts';

/** Whether `host` is monitored through its proxy's uplink: uplink `proxy` and an agent not removed. */
export function needsUplink(host: Host): boolean {
  return host.agent.uplink === 'proxy' && host.agent.state !== 'none' && host.agent.state !== 'removed';
}

/**
 * The uplink forwards one project's tunnel node should hold: one per proxy that carries at least one
 * monitored host with uplink `proxy`, or that a running deploy claimed. Fed to runTunnelNode's listWanted.
 */
export async function listWantedUplinks(
  deps: Pick<AgentDeps, 'registry' | 'redis' | 'keyPrefix' | 'influxUrl' | 'settings'>,
  project: string,
): Promise<WantedTunnels[]> {
  return (await planWantedUplinks(deps, project)).value;
}

/**
 * {@link listWantedUplinks}, with until when the answer holds unless the project changes: the first
 * moment a claim that wants a proxy runs out.
 */
export async function planWantedUplinks(
  deps: Pick<AgentDeps, 'registry' | 'redis' | 'keyPrefix' | 'influxUrl' | 'settings'>,
  project: string,
): Promise<{ value: WantedTunnels[]; until?: number }> {
  const [hosts, proxies] = await Promise.all([
    deps.registry.listHosts({ project }),
    deps.registry.listProxies({ project }),
  ]);
  const wanted = new Set<string>();
  for (const host of hosts) {
    const proxy = needsUplink(host) ? selectProxy(host, proxies) : undefined;
    if (proxy) wanted.add(proxy.id);
  }
  const claims = await Promise.all(
    proxies.map(async (proxy) => ({
      id: proxy.id,
      until: await readUplinkClaim(deps.redis, deps.keyPrefix, proxy.id),
    })),
  );
  let until: number | undefined;
  for (const claim of claims) {
    if (claim.until === undefined) continue;
    wanted.add(claim.id);
    until = Math.min(until ?? claim.until, claim.until);
  }
  const value = proxies
    .filter((proxy: Proxy) => wanted.has(proxy.id))
    .map((proxy) => {
      const {
        id: _id,
        agentUrl: _url,
        ...spec
      } = uplinkForwardOf(proxy, deps.influxUrl, deps.settings.uplinkPort);
      return { proxy, remote: [spec] };
    });
  return until === undefined ? { value } : { value, until };
}
