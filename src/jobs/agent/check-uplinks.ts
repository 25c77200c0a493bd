import path from 'node:path';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { runAnsibleJob } from '../runtime/run-ansible-job.ts';

/** What the VM-side check found for one host. */
export type UplinkCheck =
  { kind: 'direct' } | { kind: 'indirect'; detail: string } | { kind: 'unreachable'; detail: string };

/**
 * Runs playbooks/check-uplink.yml on the job's hosts: each VM asks InfluxDB at `agentUrl` for /ping.
 * Only the job's host selection, limit, forks and time limits apply (not its tags, check mode or vars).
 * @returns the check per host the play ran on, and the play's outcome.
 */
export async function checkUplinks(
  deps: JobDeps,
  run: JobRun,
  agentUrl: string | undefined,
): Promise<{ checks: Map<string, UplinkCheck>; outcome: JobOutcome }> {
  const o = run.job.options ?? {};
  const options = {
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.forks !== undefined ? { forks: o.forks } : {}),
    ...(o.verbosity !== undefined ? { verbosity: o.verbosity } : {}),
    ...(o.timeoutSeconds !== undefined ? { timeoutSeconds: o.timeoutSeconds } : {}),
    ...(o.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: o.idleTimeoutSeconds } : {}),
    ...(o.retryUnreachable !== undefined ? { retryUnreachable: o.retryUnreachable } : {}),
    ...(o.retryDelaySeconds !== undefined ? { retryDelaySeconds: o.retryDelaySeconds } : {}),
  };
  run.log.write(
    'stdout',
    agentUrl
      ? `outpost: checking from each VM whether it reaches InfluxDB at ${agentUrl}`
      : 'outpost: no agent-facing InfluxDB URL is configured (OUTPOST_INFLUX_AGENT_URL): every host needs a proxy uplink',
  );
  const outcome = await runAnsibleJob(
    deps,
    { ...run, job: { ...run.job, options } },
    {
      playbook: path.join(deps.rootDir, 'playbooks', 'check-uplink.yml'),
      extraVars: { outpost_influx_agent_url: agentUrl ?? '' },
    },
  );
  const checks = new Map<string, UplinkCheck>();
  for (const [host, summary] of Object.entries(outcome.result ?? {})) {
    if (summary.unreachable > 0 || summary.failed > 0)
      checks.set(host, { kind: 'unreachable', detail: summary.firstError?.msg.trim() ?? 'no detail' });
    else if (summary.skipped > 0)
      checks.set(host, {
        kind: 'indirect',
        detail: agentUrl
          ? `it does not reach InfluxDB at ${agentUrl} (GET /ping from the VM)`
          : 'no agent-facing InfluxDB URL is configured (OUTPOST_INFLUX_AGENT_URL)',
      });
    else checks.set(host, { kind: 'direct' });
  }
  return { checks, outcome };
}
