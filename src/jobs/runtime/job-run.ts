import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { LogWriter } from '../../logs/log-writer.ts';
import type { JobRecord, JobTimings } from '../../queue/job-record.ts';
import type { JobTimeLimit } from './job-time-limit.ts';

/** What an orchestrator gets for one job. */
export interface JobRun {
  job: JobRecord;
  /** Aborted when the job is canceled. */
  signal: AbortSignal;
  /** The job's log stream (stdout lines, events). */
  log: LogWriter;
  /** Credentials given with the job, unsealed; the orchestrator must not keep them. */
  credentials?: JobCredentials;
  /** When the whole job must be over (epoch ms), from its time limit; every run of the job shares it. */
  deadline?: number;
  /** The job's time limit and where it comes from. */
  timeLimit?: JobTimeLimit;
  /** Records progress facts on the job: the process group, the command line. */
  record(patch: Partial<Pick<JobRecord, 'pgid' | 'command' | 'rc'>>): Promise<void>;
  /** Where the job's time goes, filled as it runs (each play's runs, a kind's own phases); kept on the job. */
  timings?: JobTimings;
}

/** Enrollment credentials of an existing account on the hosts. */
export interface JobCredentials {
  user?: string;
  password?: string;
  privateKey?: string;
  /** Unlocks an encrypted privateKey. */
  passphrase?: string;
}

/** How a job ended. */
export interface JobOutcome {
  status: 'successful' | 'failed' | 'timeout' | 'canceled';
  reason?: string;
  result?: Record<string, HostSummary>;
  command?: string[];
  rc?: number;
  /** What the last play recorded for Outpost (set_stats, keys `outpost_*`), e.g. `outpost_facts`. */
  stats?: Record<string, unknown>;
}

/** Runs one job to its outcome; a failed play is an outcome, never a rejection. */
export type ExecuteJob = (run: JobRun) => Promise<JobOutcome>;
