import type { Host } from '../domain/host.ts';
import type { Project } from '../domain/project.ts';
import type { Proxy } from '../domain/proxy.ts';
import { fingerprint } from './fingerprint.ts';
import { formatTime } from './format-time.ts';
import { printFields } from './print-fields.ts';

/** `outpost project show`: its keys, proxies, and hosts counted by agent state. */
export function printProject(project: Project, proxies: Proxy[], hosts: Host[]): void {
  const states = new Map<string, number>();
  for (const host of hosts) states.set(host.agent.state, (states.get(host.agent.state) ?? 0) + 1);
  printFields(`project ${project.id}`, [
    ['created', formatTime(project.createdAt)],
    ['admin key', fingerprint(project.publicKeys.admin)],
    ['project key', fingerprint(project.publicKeys.project)],
    ['proxies', `${proxies.length}${proxies.length > 0 ? `: ${proxies.map((p) => p.id).join(', ')}` : ''}`],
    [
      'hosts',
      `${hosts.length}${hosts.length > 0 ? ` (${[...states].map(([state, n]) => `${n} ${state}`).join(', ')}): ${hosts.map((h) => h.id).join(', ')}` : ''}`,
    ],
  ]);
}
