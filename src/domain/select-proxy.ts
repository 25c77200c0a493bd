import { cidrContains, parseCidr } from './cidr.ts';
import type { Host } from './host.ts';
import type { Proxy } from './proxy.ts';

/**
 * The proxy that carries SSH to `host`: its explicit proxy wins; otherwise the proxy of the same
 * project whose network most specifically contains the host's address (or equals its network CIDR).
 * Undefined means the host is reached directly.
 */
export function selectProxy(
  host: Pick<Host, 'project' | 'address' | 'network' | 'proxy'>,
  proxies: Proxy[],
): Proxy | undefined {
  if (host.proxy) return proxies.find((proxy) => proxy.id === host.proxy);
  let best: { proxy: Proxy; prefix: number } | undefined;
  for (const proxy of proxies) {
    if (proxy.project !== host.project) continue;
    for (const network of proxy.networks) {
      const cidr = parseCidr(network);
      if (!cidr) continue;
      const matches = cidrContains(cidr, host.address) || network === host.network;
      // Ties go to the lower id so the choice never depends on listing order.
      if (
        matches &&
        (!best || cidr.prefix > best.prefix || (cidr.prefix === best.prefix && proxy.id < best.proxy.id))
      ) {
        best = { proxy, prefix: cidr.prefix };
      }
    }
  }
  return best?.proxy;
}
