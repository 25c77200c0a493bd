import { ValidationError } from '../../errors.ts';
import { resolveJobHosts } from './create-registry-inventory.ts';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { resolvePlaybook } from './resolve-playbook.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `run-playbook`: any playbook of the repository against the job's hosts. */
export async function runPlaybookJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  if (!run.job.playbook) throw new ValidationError('playbook', 'a run-playbook job needs a playbook');
  const playbook = await resolvePlaybook(deps.rootDir, run.job.playbook);
  const { run: limited, proxyOf } = await limitToJobHosts(deps, run);
  return nameProxies(await runAnsibleJob(deps, limited, { playbook }), proxyOf);
}

/** ssh's own message for a host behind a dead proxy names neither: say which proxy it was reached through. */
function nameProxies(outcome: JobOutcome, proxyOf: Map<string, string>): JobOutcome {
  const unreachable: string[] = [];
  for (const [host, summary] of Object.entries(outcome.result ?? {})) {
    const proxy = proxyOf.get(host);
    if (proxy === undefined || summary.firstError?.status !== 'unreachable') continue;
    summary.firstError.msg = `through proxy ${proxy}: ${summary.firstError.msg}`;
    unreachable.push(`${host} (through proxy ${proxy})`);
  }
  if (unreachable.length === 0) return outcome;
  return {
    ...outcome,
    reason: [outcome.reason, `unreachable: ${unreachable.join(', ')}`].filter(Boolean).join('; '),
  };
}

/**
 * The registry inventory also lists the project's proxies (they carry the jump to the hosts), so a
 * `hosts: all` playbook would run on them too: limit the run to the job's own hosts, and to its limit.
 */
async function limitToJobHosts(
  deps: JobDeps,
  run: JobRun,
): Promise<{ run: JobRun; proxyOf: Map<string, string> }> {
  const { job } = run;
  const proxyOf = new Map<string, string>();
  const registry = deps.registry;
  if (!registry || (job.hosts?.length === 1 && job.hosts[0] === 'localhost')) return { run, proxyOf };
  const { hosts } = await resolveJobHosts(registry, job);
  for (const host of hosts) {
    const proxy = await registry.proxyFor(host);
    if (proxy !== undefined && host.reach !== 'direct') proxyOf.set(host.id, proxy.id);
  }
  const limit = [
    ...hosts.map((host) => host.id),
    ...(job.options?.limit ? [`&${job.options.limit}`] : []),
  ].join(',');
  return { run: { ...run, job: { ...job, options: { ...job.options, limit } } }, proxyOf };
}
