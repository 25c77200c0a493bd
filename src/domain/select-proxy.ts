import { cidrContains, parseCidr } from './cidr.ts';
import type { Host } from './host.ts';
import type { Proxy } from './proxy.ts';

type Routable = Pick<Host, 'project' | 'address' | 'network' | 'proxy'>;

/**
 * The proxy that carries SSH to `host`: its explicit proxy wins; otherwise the proxy of the same
 * project whose network most specifically contains the host's address (or equals its network CIDR).
 * Undefined means the host is reached directly.
 */
export function selectProxy(host: Routable, proxies: Proxy[]): Proxy | undefined {
  if (host.proxy) return proxies.find((proxy) => proxy.id === host.proxy);
  return bestProxies(host, proxies)[0];
}

/**
 * Every proxy of the host's project that matches it most specifically, by id. More than one means
 * the host's network is served equally by several proxies: it must name its proxy (`tiedProxies`).
 */
export function bestProxies(host: Routable, proxies: Proxy[]): Proxy[] {
  let best: Proxy[] = [];
  let bestPrefix = -1;
  for (const proxy of proxies) {
    if (proxy.project !== host.project) continue;
    const prefix = Math.max(
      ...proxy.networks.map((network) => {
        const cidr = parseCidr(network);
        const matches = cidr && (cidrContains(cidr, host.address) || network === host.network);
        return matches ? cidr.prefix : -1;
      }),
    );
    if (prefix < 0 || prefix < bestPrefix) continue;
    if (prefix > bestPrefix) best = [];
    bestPrefix = prefix;
    best.push(proxy);
  }
  // Ties are listed by id, so the choice never depends on listing order.
  return best.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The proxies a host without an explicit proxy matches equally (two or more), else none. */
export function tiedProxies(host: Routable, proxies: Proxy[]): Proxy[] {
  if (host.proxy) return [];
  const best = bestProxies(host, proxies);
  return best.length > 1 ? best : [];
}

/** Why a host with tied proxies is refused: names the proxies and the fix. */
export function describeTie(host: Pick<Host, 'id' | 'address'>, tied: Proxy[]): string {
  const names = tied.map((proxy) => JSON.stringify(proxy.id)).join(' and ');
  return `host ${JSON.stringify(host.id)} (${host.address}) matches proxies ${names} equally: it must name its proxy (\`--proxy ${tied[0]?.id ?? 'PROXY'}\` when adding it; \`outpost host rm ${host.id}\` and add it again), or the proxies must serve different networks`;
}
