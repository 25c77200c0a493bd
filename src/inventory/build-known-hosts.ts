import { hostAlias, proxyAlias } from './aliases.ts';
import type { Route } from './resolve-routes.ts';
import type { Proxy } from '../domain/proxy.ts';

/** `known_hosts` with one line per pinned key, named by the alias ssh_config gives as HostKeyAlias. */
export function buildKnownHosts(routes: Route[], proxies: Proxy[]): string {
  const lines: string[] = [];
  for (const proxy of proxies) if (proxy.hostKey) lines.push(`${proxyAlias(proxy.id)} ${proxy.hostKey}`);
  for (const { host } of routes) if (host.hostKey) lines.push(`${hostAlias(host.id)} ${host.hostKey}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
