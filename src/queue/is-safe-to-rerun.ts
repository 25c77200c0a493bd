import type { JobSpec } from './job-record.ts';

/**
 * Whether a worker that shuts down may stop `job` half-way and queue it again: Outpost's own plays are
 * idempotent, a user's playbook only when its job says so (JobOptions.safeToRerun).
 */
export function isSafeToRerun(job: JobSpec): boolean {
  return job.options?.safeToRerun ?? job.kind !== 'run-playbook';
}
