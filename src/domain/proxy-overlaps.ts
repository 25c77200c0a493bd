import { parseCidr } from './cidr.ts';
import type { Host } from './host.ts';
import type { Proxy } from './proxy.ts';
import { tiedProxies } from './select-proxy.ts';

/**
 * Warnings for a proxy just added: each network it serves that another proxy of its project serves
 * too (same CIDR), and the existing hosts that now match both equally and so must name their proxy.
 */
export function describeProxyOverlaps(added: Proxy, proxies: Proxy[], hosts: Host[]): string[] {
  const warnings: string[] = [];
  const others = proxies.filter((proxy) => proxy.project === added.project && proxy.id !== added.id);
  for (const network of added.networks) {
    const same = others.filter((proxy) => proxy.networks.some((theirs) => sameNetwork(theirs, network)));
    if (same.length === 0) continue;
    warnings.push(
      `proxy ${JSON.stringify(added.id)} serves ${network} like proxy ${same.map((p) => JSON.stringify(p.id)).join(', ')}: hosts in ${network} must name their proxy (--proxy), or jobs for them are refused`,
    );
  }
  const all = [...others, added];
  const tied = hosts.filter(
    (host) => host.project === added.project && tiedProxies(host, all).some((p) => p.id === added.id),
  );
  if (tied.length > 0)
    warnings.push(
      `${tied.length} existing host(s) now match more than one proxy equally and will be refused until they name one: ${tied.map((host) => host.id).join(', ')}`,
    );
  return warnings;
}

function sameNetwork(a: string, b: string): boolean {
  const left = parseCidr(a);
  const right = parseCidr(b);
  return (
    !!left &&
    !!right &&
    left.version === right.version &&
    left.base === right.base &&
    left.prefix === right.prefix
  );
}
