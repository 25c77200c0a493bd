import path from 'node:path';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `remove-agent`: removes Telegraf from the hosts (playbooks/remove-agent.yml). */
export async function removeAgentJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  return runAnsibleJob(deps, run, { playbook: path.join(deps.rootDir, 'playbooks', 'remove-agent.yml') });
}
