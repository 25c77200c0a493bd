import path from 'node:path';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `probe`: checks reach, login and facts of the hosts (playbooks/probe.yml). */
export async function probeJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  return runAnsibleJob(deps, run, { playbook: path.join(deps.rootDir, 'playbooks', 'probe.yml') });
}
