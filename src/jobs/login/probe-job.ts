import { resolveJobHosts } from '../runtime/create-registry-inventory.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { requireLoginDeps } from './login-deps.ts';
import { probeHosts } from './probe-hosts.ts';

/**
 * `probe`: for each host, tries every way to log in as cloudroot with the project key (direct, jump
 * through its proxy, a local forward of this node's tunnel keeper) and records per way ok or why not,
 * the way that worked as the host's reach, the pinned host key and the facts of playbooks/probe.yml.
 * A working probe of a host Outpost did not enroll records login `enrolled` by way `script` (the
 * enrollment script run by the user); `options.enrolledBy: 'script'` says so explicitly and re-records it
 * on a host already enrolled another way.
 */
export async function probeJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const login = requireLoginDeps(deps, 'probe');
  const { hosts } = await resolveJobHosts(login.registry, run.job);
  const enrolledBy = run.job.options?.enrolledBy;
  const probed = await probeHosts(login, run, hosts, enrolledBy ? { enrolledBy } : {});
  return {
    status: probed.status,
    ...(probed.reason ? { reason: probed.reason } : {}),
    result: probed.result,
  };
}
