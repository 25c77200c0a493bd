import type { Proxy } from '../domain/proxy.ts';
import { fingerprint } from './fingerprint.ts';
import { formatTime } from './format-time.ts';
import { printFields } from './print-fields.ts';
import { agentStateText, proxyOf, type HostView } from './registry-views.ts';

/** `outpost host show`: where the host is, how Outpost reaches it, its login, agent and last probe. */
export function printHost(host: HostView, proxies: Proxy[]): void {
  const route = proxyOf(host, proxies);
  const { login, agent, facts, probe } = host;
  const seen = host.metrics?.lastSeen;
  printFields(`host ${host.id}  (project ${host.project})`, [
    ['address', `${host.address} port ${host.sshPort}`],
    ['network', host.network],
    ['proxy', route.text === '-' ? 'none: reached directly' : `${route.text} (${route.how ?? ''})`],
    ['reach', host.reach ?? probe?.reach ?? 'not probed yet'],
    [
      'host key',
      host.hostKey
        ? `${fingerprint(host.hostKey)} (pinned)`
        : 'not pinned: the next probe or enrollment records it',
    ],
    [
      'login',
      `${login.state}${login.way ? ` by ${login.way}` : ''}${login.at ? ` at ${formatTime(login.at)}` : ''}${login.reason ? `: ${login.reason}` : ''}`,
    ],
    [
      'agent',
      `${agentStateText(agent.state)}${agent.since ? ` since ${formatTime(agent.since)}` : ''}${agent.config ? ` (configuration ${agent.config})` : ''}${agent.version ? `, Telegraf ${agent.version}` : ''}${agent.uplink ? `, uplink ${agent.uplink}` : ''}${agent.lastSeen ? `, ${agent.state === 'silent' ? 'last point' : 'verified'} ${formatTime(agent.lastSeen)}` : ''}`,
    ],
    [
      'last seen',
      host.metrics ? (seen ? formatTime(seen) : (host.metrics.error ?? 'no metrics in InfluxDB')) : undefined,
    ],
    ['reason', agent.state === 'reporting' ? undefined : agent.reason],
    [
      'facts',
      facts
        ? [facts.os, facts.arch, facts.python && `python ${facts.python}`, facts.interpreter]
            .filter(Boolean)
            .join(', ')
        : undefined,
    ],
    [
      'last probe',
      probe
        ? `${formatTime(probe.at)}: ${Object.entries(probe.ways)
            .map(([way, found]) => `${way} ${found.ok ? 'ok' : (found.reason ?? 'failed')}`)
            .join(', ')}`
        : undefined,
    ],
  ]);
}
