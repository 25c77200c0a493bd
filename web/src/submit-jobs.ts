import { post } from './api.ts';
import { navigate } from './router.ts';
import type { Job } from './types.ts';

/**
 * Submits one `kind` job per project for the chosen hosts, then shows the job (or the jobs list when
 * there are several). Resolves the jobs submitted.
 */
export async function submitJobs(
  kind: string,
  hosts: { id: string; project: string }[],
  extra: Record<string, unknown> = {},
): Promise<Job[]> {
  const byProject = new Map<string, string[]>();
  for (const host of hosts) byProject.set(host.project, [...(byProject.get(host.project) ?? []), host.id]);
  const jobs: Job[] = [];
  for (const [project, ids] of byProject)
    jobs.push(await post<Job>('/v1/jobs', { kind, project, hosts: ids, ...extra }));
  const only = jobs.length === 1 ? jobs[0] : undefined;
  navigate(only ? `/jobs/${only.id}` : `/jobs?kind=${kind}`);
  return jobs;
}
