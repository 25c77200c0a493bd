import path from 'node:path';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `enroll`: creates the cloudroot login on the hosts with the credentials given once (playbooks/enroll.yml). */
export async function enrollJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const { credentials } = run;
  // Credentials reach ansible only through a 0600 vars file that is removed when the run ends.
  const secretVars: Record<string, unknown> = {};
  if (credentials?.user) secretVars.ansible_user = credentials.user;
  if (credentials?.password) {
    secretVars.ansible_password = credentials.password;
    secretVars.ansible_become_password = credentials.password;
  }
  return runAnsibleJob(deps, run, {
    playbook: path.join(deps.rootDir, 'playbooks', 'enroll.yml'),
    ...(Object.keys(secretVars).length > 0 ? { secretVars } : {}),
  });
}
