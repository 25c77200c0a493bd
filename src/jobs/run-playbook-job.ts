import { ValidationError } from '../errors.ts';
import type { JobDeps } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { resolvePlaybook } from './resolve-playbook.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** `run-playbook`: any playbook of the repository against the job's hosts. */
export async function runPlaybookJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  if (!run.job.playbook) throw new ValidationError('playbook', 'a run-playbook job needs a playbook');
  const playbook = await resolvePlaybook(deps.rootDir, run.job.playbook);
  return runAnsibleJob(deps, run, { playbook });
}
