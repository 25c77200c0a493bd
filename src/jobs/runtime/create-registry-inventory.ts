import type { Host } from '../../domain/host.ts';
import { ValidationError, quote } from '../../errors.ts';
import type { writeInventory } from '../../inventory/write-inventory.ts';
import type { JobRecord } from '../../queue/job-record.ts';
import type { Registry } from '../../registry/registry.ts';
import type { KeyStore } from '../../secrets/key-store.ts';
import type { PrepareInventory } from './job-deps.ts';
import { preparedInventory } from './prepared-inventory.ts';

/** What the registry-backed inventory is built from. */
export interface RegistryInventoryDeps {
  registry: Registry;
  keys: KeyStore;
  writeInventory: typeof writeInventory;
}

/** The hosts a job is for: its host ids, else its selector, else all hosts of its project. */
export async function resolveJobHosts(
  registry: Registry,
  job: JobRecord,
): Promise<{ project: string; hosts: Host[] }> {
  const hosts = job.hosts
    ? await Promise.all(job.hosts.map((id) => registry.getHost(id)))
    : await registry.listHosts({
        ...(job.project ? { project: job.project } : {}),
        ...(job.selector?.network ? { network: job.selector.network } : {}),
        ...(job.selector?.proxy ? { proxy: job.selector.proxy } : {}),
      });
  const project = job.project ?? hosts[0]?.project;
  if (!project) throw new ValidationError('hosts', 'no host matches the job');
  const stranger = hosts.find((host) => host.project !== project);
  if (stranger)
    throw new ValidationError('hosts', `host ${quote(stranger.id)} is not in project ${quote(project)}`);
  if (hosts.length === 0)
    throw new ValidationError('hosts', `no host of project ${quote(project)} matches the job`);
  return { project, hosts };
}

/**
 * Writes a run's inventory from the registry: the job's hosts, the project's proxies, the project and
 * admin private keys (0600, listed as secret files so the run removes them when it ends).
 */
export function createRegistryInventory(deps: RegistryInventoryDeps): PrepareInventory {
  return async (dir, job) => {
    const { project, hosts } = await resolveJobHosts(deps.registry, job);
    const proxies = await deps.registry.listProxies({ project });
    const written = await deps.writeInventory({
      dir,
      project,
      hosts,
      proxies,
      keys: { project: await deps.keys.projectPrivateKey(project), admin: await deps.keys.adminPrivateKey() },
    });
    return preparedInventory(written, [written.projectKey, written.adminKey]);
  };
}
