import type { Host, Proxy } from './types.ts';

/** The proxy carrying SSH to a host: its explicit one, else the proxy of its project serving its network. */
export function proxyOf(host: Host, proxies: Proxy[]): string | undefined {
  if (host.proxy) return host.proxy;
  if (!host.network) return undefined;
  return proxies.find(
    (proxy) => proxy.project === host.project && proxy.networks.includes(host.network ?? ''),
  )?.id;
}

/** Why a host's metrics are not arriving (or its login failed), in the words Outpost recorded. */
export function silentReason(host: Host): string | undefined {
  if (host.agent.state === 'not-reporting') return host.agent.reason ?? 'no metrics seen';
  // The agent watch's finding: the first check that failed, naming the part (InfluxDB, proxy, VM, agent).
  if (host.agent.state === 'silent') return host.agent.reason ?? 'no recent point';
  if (host.login.state === 'failed') return host.login.reason ?? 'login failed';
  if (host.metrics?.error) return `InfluxDB: ${host.metrics.error}`;
  return undefined;
}

/** When the host's metrics were last seen: InfluxDB's live answer, else what the last check recorded. */
export function lastSeenOf(host: Host): string | undefined {
  return host.metrics?.lastSeen ?? host.agent.lastSeen;
}
