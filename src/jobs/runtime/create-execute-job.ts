import type { JobKind } from '../../queue/job-record.ts';
import { deployAgentJob } from '../agent/deploy-agent-job.ts';
import { enrollJob } from '../login/enroll-job.ts';
import type { JobDeps } from './job-deps.ts';
import type { ExecuteJob, JobOutcome, JobRun } from './job-run.ts';
import { prepareProxyJob } from '../login/prepare-proxy-job.ts';
import { probeJob } from '../login/probe-job.ts';
import { removeAgentJob } from '../agent/remove-agent-job.ts';
import { rotateKeyJob } from '../login/rotate-key-job.ts';
import { runPlaybookJob } from './run-playbook-job.ts';

const ORCHESTRATORS: Record<JobKind, (deps: JobDeps, run: JobRun) => Promise<JobOutcome>> = {
  enroll: enrollJob,
  probe: probeJob,
  'prepare-proxy': prepareProxyJob,
  'deploy-agent': deployAgentJob,
  'remove-agent': removeAgentJob,
  'run-playbook': runPlaybookJob,
  'rotate-key': rotateKeyJob,
};

/** The worker's entry into jobs/: picks the orchestrator of the job's kind and gives it `deps`. */
export function createExecuteJob(deps: JobDeps): ExecuteJob {
  return (run) => ORCHESTRATORS[run.job.kind](deps, run);
}
