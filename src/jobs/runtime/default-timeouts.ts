import type { JobKind } from '../../queue/job-record.ts';

/** Whole-job limit per kind, in seconds, when a job sets none. */
export const DEFAULT_TIMEOUT_SECONDS: Record<JobKind, number> = {
  enroll: 600,
  probe: 120,
  'prepare-proxy': 900,
  'deploy-agent': 1800,
  'remove-agent': 600,
  'run-playbook': 3600,
  'rotate-key': 1800,
};

/** Limit without any output, in seconds, when a job sets none. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
