import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { LogWriter } from '../../logs/log-writer.ts';
import type { JobRecord } from '../../queue/job-record.ts';

/** What an orchestrator gets for one job. */
export interface JobRun {
  job: JobRecord;
  /** Aborted when the job is canceled. */
  signal: AbortSignal;
  /** The job's log stream (stdout lines, events). */
  log: LogWriter;
  /** Credentials given with the job, unsealed; the orchestrator must not keep them. */
  credentials?: JobCredentials;
  /** Records progress facts on the job: the process group, the command line. */
  record(patch: Partial<Pick<JobRecord, 'pgid' | 'command' | 'rc'>>): Promise<void>;
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
}

/** Runs one job to its outcome; a failed play is an outcome, never a rejection. */
export type ExecuteJob = (run: JobRun) => Promise<JobOutcome>;
