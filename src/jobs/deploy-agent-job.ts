import path from 'node:path';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `deploy-agent`: installs and starts Telegraf on the hosts (playbooks/deploy-agent.yml). */
export async function deployAgentJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  return runAnsibleJob(deps, run, { playbook: path.join(deps.rootDir, 'playbooks', 'deploy-agent.yml') });
}
