import type { Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { NotFoundError, ValidationError, quote } from '../../errors.ts';
import type { JobRecord } from '../../queue/job-record.ts';
import type { Registry } from '../../registry/registry.ts';
import { resolveJobHosts } from '../runtime/create-registry-inventory.ts';

/** Whom a login job is for: hosts and proxies of one project. */
export interface LoginTargets {
  project: string;
  hosts: Host[];
  proxies: Proxy[];
}

/**
 * Resolves a login job's targets. `hosts` may name hosts and proxies (they share one namespace);
 * without ids, `wanted: 'proxies'` takes the project's proxies (or the selector's proxy) and
 * `wanted: 'hosts'` the hosts of the project or selector.
 */
export async function resolveLoginTargets(
  registry: Registry,
  job: JobRecord,
  wanted: 'hosts' | 'proxies',
): Promise<LoginTargets> {
  const hosts: Host[] = [];
  const proxies: Proxy[] = [];
  if (job.hosts) {
    for (const id of job.hosts) {
      const host = await registry.getHost(id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (host) hosts.push(host);
      else proxies.push(await registry.getProxy(id));
    }
  } else if (wanted === 'hosts') {
    hosts.push(...(await resolveJobHosts(registry, job)).hosts);
  } else if (job.selector?.proxy) {
    proxies.push(await registry.getProxy(job.selector.proxy));
  } else if (job.project) {
    proxies.push(...(await registry.listProxies({ project: job.project })));
  }
  const project = job.project ?? hosts[0]?.project ?? proxies[0]?.project;
  if (!project || hosts.length + proxies.length === 0) {
    throw new ValidationError('hosts', `no ${wanted === 'proxies' ? 'proxy' : 'host'} matches the job`);
  }
  const stranger = [...hosts, ...proxies].find((entity) => entity.project !== project);
  if (stranger) {
    throw new ValidationError('hosts', `${quote(stranger.id)} is not in project ${quote(project)}`);
  }
  return { project, hosts, proxies };
}
