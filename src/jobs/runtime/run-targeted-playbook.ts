import path from 'node:path';
import type { JobDeps, PreparedInventory } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { runAnsibleJob } from './run-ansible-job.ts';

/** One playbook run of a login job: its own inventory, limited to the job's targets. */
export interface TargetedPlaybook {
  /** Playbook file under playbooks/. */
  playbook: string;
  /** Host or proxy ids the run is for (the inventory may list more, e.g. the project's proxies). */
  targets: string[];
  /** Writes the run's inventory into the run dir. */
  prepareInventory(dir: string): Promise<PreparedInventory>;
  extraVars?: Record<string, unknown>;
  secretVars?: Record<string, unknown>;
}

/**
 * Runs a playbook through the common path (run dir, events into the log, secrets removed at the end)
 * with the login job's own inventory, limited to `targets` (and to the job's own limit, if any).
 */
export function runTargetedPlaybook(deps: JobDeps, run: JobRun, plan: TargetedPlaybook): Promise<JobOutcome> {
  const options = run.job.options ?? {};
  const limit = [...plan.targets, ...(options.limit ? [`&${options.limit}`] : [])].join(',');
  return runAnsibleJob(
    { ...deps, prepareInventory: (dir) => plan.prepareInventory(dir) },
    { ...run, job: { ...run.job, options: { ...options, limit } } },
    {
      playbook: path.join(deps.rootDir, 'playbooks', plan.playbook),
      ...(plan.extraVars ? { extraVars: plan.extraVars } : {}),
      ...(plan.secretVars ? { secretVars: plan.secretVars } : {}),
    },
  );
}
