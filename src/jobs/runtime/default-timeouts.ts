import type { JobKind } from '../../queue/job-record.ts';

/** Whole-job limit per kind, in seconds, when a job sets none: this much, plus {@link PER_HOST_TIMEOUT_SECONDS} per host. */
export const DEFAULT_TIMEOUT_SECONDS: Record<JobKind, number> = {
  enroll: 600,
  probe: 120,
  'prepare-proxy': 900,
  'deploy-agent': 1800,
  'remove-agent': 600,
  'run-playbook': 3600,
  'rotate-key': 1800,
};

/** What each host (or proxy) of a job adds to its default limit, in seconds: a big job must not fail for being big. */
export const PER_HOST_TIMEOUT_SECONDS: Record<JobKind, number> = {
  enroll: 15,
  probe: 5,
  'prepare-proxy': 60,
  'deploy-agent': 30,
  'remove-agent': 10,
  'run-playbook': 30,
  'rotate-key': 20,
};

/** Limit without any output, in seconds, when a job sets none. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
