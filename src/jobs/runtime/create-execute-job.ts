import type { JobKind } from '../../queue/job-record.ts';
import { deployAgentJob } from '../agent/deploy-agent-job.ts';
import { enrollJob } from '../login/enroll-job.ts';
import { countJobTargets } from './count-job-targets.ts';
import type { JobDeps } from './job-deps.ts';
import { jobTimeLimit } from './job-time-limit.ts';
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

/**
 * The worker's entry into jobs/: sets the job's time limit (given, or growing with its host count), which
 * every run of the job shares, then picks the orchestrator of the job's kind and gives it `deps`.
 */
export function createExecuteJob(deps: JobDeps): ExecuteJob {
  return async (run) => {
    const timeLimit = jobTimeLimit(run.job, await countJobTargets(deps.registry, run.job));
    run.log.write('stdout', `outpost: time limit ${timeLimit.seconds} s (${timeLimit.why})`);
    return ORCHESTRATORS[run.job.kind](deps, {
      ...run,
      timeLimit,
      deadline: run.deadline ?? Date.now() + timeLimit.seconds * 1000,
    });
  };
}
