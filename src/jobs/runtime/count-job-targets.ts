import type { JobRecord } from '../../queue/job-record.ts';
import type { Registry } from '../../registry/registry.ts';

/**
 * How many hosts (or proxies) a job is for, to size its time limit: its ids, else what its selector or
 * project matches in the registry; 1 when that cannot be known here (the job itself reports why later).
 */
export async function countJobTargets(registry: Registry | undefined, job: JobRecord): Promise<number> {
  if (job.hosts) return job.hosts.length;
  if (!registry) return 1;
  try {
    if (job.kind === 'prepare-proxy' && !job.selector?.network) {
      return job.selector?.proxy ? 1 : (await registry.listProxies({ project: job.project })).length;
    }
    return (
      await registry.listHosts({
        ...(job.project ? { project: job.project } : {}),
        ...(job.selector?.network ? { network: job.selector.network } : {}),
        ...(job.selector?.proxy ? { proxy: job.selector.proxy } : {}),
      })
    ).length;
  } catch {
    return 1;
  }
}
