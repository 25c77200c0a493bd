import type { HostSummary } from '../ansible/summarize-run.ts';
import type { JobOutcome } from '../jobs/runtime/job-run.ts';

/**
 * How many of a slice's hosts failed, for the failure budget: a host whose agent verdict (deploy, remove)
 * is not done, or whose play failed or was unreachable; every host of a slice that failed without a
 * per-host result (it could not start its play).
 */
export function countFailedHosts(hosts: readonly string[], outcome: JobOutcome): number {
  const result = outcome.result ?? {};
  let failed = 0;
  for (const host of hosts) {
    const summary: (HostSummary & { agent?: { state: string; deploy: string } }) | undefined = result[host];
    if (!summary) continue;
    const agent = summary.agent;
    const agentUndone =
      agent !== undefined &&
      !(agent.state === 'reporting' && (agent.deploy === 'applied' || agent.deploy.startsWith('unchanged')));
    if (agentUndone || (agent === undefined && (summary.failed > 0 || summary.unreachable > 0))) failed += 1;
  }
  if (failed === 0 && outcome.status !== 'successful') return hosts.length;
  return failed;
}
