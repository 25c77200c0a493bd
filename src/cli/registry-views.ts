import type { Host } from '../domain/host.ts';
import type { Proxy } from '../domain/proxy.ts';
import { selectProxy, tiedProxies } from '../domain/select-proxy.ts';
import { formatDuration, formatTime } from './format-time.ts';

/** A host as the API lists it: the record plus when InfluxDB last saw its metrics. */
export type HostView = Host & { metrics?: { lastSeen: string | null; error?: string } };

/** The proxy a host goes through, named or matched by network; `-` when it is reached directly. */
export function proxyOf(host: Host, proxies: Proxy[]): { text: string; how?: string } {
  const tied = tiedProxies(host, proxies);
  if (tied.length > 0)
    return { text: `? (${tied.map((p) => p.id).join(' or ')})`, how: 'tied: name one with --proxy' };
  const proxy = selectProxy(host, proxies);
  if (!proxy) return { text: '-' };
  if (host.proxy) return { text: proxy.id, how: 'named' };
  const network = proxy.networks.find((n) => n === host.network) ?? proxy.networks.join(', ');
  return { text: proxy.id, how: `matched by network ${network}` };
}

/** One row of `outpost host list`. */
export function hostRow(host: HostView, proxies: Proxy[]): Record<string, unknown> {
  const metrics = host.metrics;
  return {
    id: host.id,
    project: host.project,
    address: host.address,
    port: host.sshPort,
    proxy: proxyOf(host, proxies).text,
    login: host.login.state,
    reach: host.reach ?? host.probe?.reach,
    uplink: host.agent.uplink,
    // One story with LASTSEEN: an agent still sending points of an older configuration says so.
    agent: agentStateText(host.agent.state),
    telegraf: host.agent.version,
    // Live from InfluxDB when the server could ask it; else what the last deploy saw.
    lastSeen:
      metrics?.lastSeen ??
      (metrics?.error ? `? (${host.agent.lastSeen ?? 'InfluxDB unavailable'})` : host.agent.lastSeen),
    reason: host.agent.state === 'reporting' ? undefined : (host.agent.reason ?? host.login.reason),
  };
}

/** A host's agent state for a person: `reporting-old-config` reads `reporting (old config)`. */
export function agentStateText(state: HostView['agent']['state']): string {
  return state === 'reporting-old-config' ? 'reporting (old config)' : state;
}

/** Whether a proxy is ready to carry uplinks, from its pinned key and its last self-test. */
export function preparedOf(proxy: Proxy): string {
  if (!proxy.hostKey) return 'no (no host key)';
  if (!proxy.selfTest) return 'unknown';
  return proxy.selfTest.ok ? 'yes' : 'no';
}

/** The last self-test of a proxy in one line. */
export function selfTestOf(proxy: Proxy): string | undefined {
  const test = proxy.selfTest;
  if (!test) return undefined;
  if (!test.ok) return `FAILED ${formatTime(test.at)}: ${test.detail ?? ''}`;
  const where = test.bindAddress ? ` via ${test.bindAddress}:${test.port ?? '?'}` : '';
  return `ok ${formatTime(test.at)}${where}${test.ms !== undefined ? ` (${formatDuration(test.ms)})` : ''}`;
}

/** One row of `outpost proxy list`. */
export function proxyRow(proxy: Proxy): Record<string, unknown> {
  return {
    id: proxy.id,
    project: proxy.project,
    publicAddress: proxy.sshPort === 22 ? proxy.publicAddress : `${proxy.publicAddress}:${proxy.sshPort}`,
    vpcAddress: proxy.vpcAddress,
    networks: proxy.networks,
    user: proxy.user,
    prepared: preparedOf(proxy),
    'self-test': selfTestOf(proxy),
  };
}
