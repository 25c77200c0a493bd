import path from 'node:path';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `prepare-proxy`: makes proxy nodes ready to carry SSH and uplinks (playbooks/prepare-proxy.yml). */
export async function prepareProxyJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  return runAnsibleJob(deps, run, { playbook: path.join(deps.rootDir, 'playbooks', 'prepare-proxy.yml') });
}
