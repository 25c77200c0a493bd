import type { HostSummary } from '../ansible/summarize-run.ts';
import type { RunTiming } from '../ansible/summarize-timings.ts';
import type { FailureBudget } from '../domain/failure-budget.ts';
import type { SerialStep } from '../domain/serial-batches.ts';

/** The kinds of job: one orchestrator each under src/jobs/. */
export const JOB_KINDS = [
  'enroll',
  'probe',
  'prepare-proxy',
  'deploy-agent',
  'remove-agent',
  'run-playbook',
  'rotate-key',
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** A job's status: `queued → running → successful | failed | timeout | canceled`. */
export const JOB_STATUSES = ['queued', 'running', 'successful', 'failed', 'timeout', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves. */
export const FINAL_STATUSES: readonly JobStatus[] = ['successful', 'failed', 'timeout', 'canceled'];

/** Pass-through options of a job; every field validated at the edge. */
export interface JobOptions {
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  check?: boolean;
  diff?: boolean;
  verbosity?: number;
  forks?: number;
  extraVars?: Record<string, unknown>;
  /** Whole-job limit; default per kind. */
  timeoutSeconds?: number;
  /** Limit without any output; default 300. */
  idleTimeoutSeconds?: number;
  /** Extra runs limited to the hosts that were unreachable. Default 0. */
  retryUnreachable?: number;
  /** Seconds between those runs. Default 5. */
  retryDelaySeconds?: number;
  /** enroll and probe: seconds each way of reaching a host (direct, jump, forward) may take to connect; default 3. */
  connectTimeoutSeconds?: number;
  /** probe only: the hosts were set up with the enrollment script (recorded as login way `script`). */
  enrolledBy?: 'script';
  /** rotate-key only: abandon the pending rotation (its next key is revoked everywhere and forgotten). */
  abandon?: boolean;
  /** deploy-agent only: run the play on every host, even those the fast path finds already right. */
  full?: boolean;
  /** deploy-agent only: the Telegraf version to install, upgrading or downgrading. Default: the package source's. */
  telegrafVersion?: string;
  /**
   * Whether the play may run again from the start after being stopped half-way: a worker shutting down
   * past its grace period then puts the job back on the queue instead of failing it. Default true for
   * Outpost's own kinds (their plays are idempotent), false for run-playbook.
   */
  safeToRerun?: boolean;
  /**
   * deploy-agent, remove-agent, probe, enroll: hosts per slice. A job over more hosts, or behind more than
   * one proxy, runs as slices (child jobs, per proxy then per this many hosts) on any worker. Default 50.
   */
  sliceSize?: number;
  /** Slices of one proxy running at once, across workers (sshd MaxStartups). Default 2. */
  proxyConcurrency?: number;
  /** Failed hosts (a count, or `"10%"` of the job's hosts) past which slices not started yet are not started. */
  maxFailures?: FailureBudget;
  /**
   * Rolling batches (`[5%, 25%, 100%]`): a batch starts once the previous one ended within the budget
   * (`maxFailures`, default 0 with batches: a rollout stops at its first failed host).
   */
  serial?: SerialStep[];
}

/** Where a slice (child job) sits in its parent. */
export interface SliceInfo {
  /** 1-based, over the whole job. */
  index: number;
  /** Rolling batch, 1-based. */
  batch: number;
  /** `<proxy or direct>#<index>`: labels the slice's entries in the parent's log. */
  label: string;
  /** The proxy its hosts are behind (its concurrency limit applies). */
  proxy?: string;
}

/** Where a job's time went. */
export interface JobTimings {
  /** The job's own steps in order, with their wall time (deploy-agent: probe, uplinks, play, proof). */
  phases: { name: string; ms: number }[];
  /** Each ansible-playbook run of the job: per task and per host. */
  runs: RunTiming[];
}

/** What is submitted: the kind, whom it is for, and how. */
export interface JobSpec {
  kind: JobKind;
  project?: string;
  /** Host ids of the registry (or `localhost` when local runs are allowed). */
  hosts?: string[];
  /** Hosts chosen by attribute instead of by id. */
  selector?: { network?: string; proxy?: string };
  /** run-playbook only: a playbook under playbooks/ or test/fixtures/playbooks/. */
  playbook?: string;
  options?: JobOptions;
  /** 1 (highest) .. 100; default 50. */
  priority?: number;
}

/** A job as stored and shown (never carries credentials). */
export interface JobRecord extends JobSpec {
  id: string;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Why the job did not succeed. */
  reason?: string;
  /** The exact command line of the last run. */
  command?: string[];
  rc?: number;
  /** Per-host result of the job. */
  result?: Record<string, HostSummary>;
  /** Per-phase, per-task and per-host timings (set when the job ends). */
  timings?: JobTimings;
  /** Worker holding the job while it runs, and the process group of its ansible-playbook. */
  worker?: string;
  pgid?: number;
  node?: string;
  idempotencyKey?: string;
  /** Whether sealed credentials came with the job (never the credentials). */
  hasCredentials?: boolean;
  /** Set when a cancel was asked while the job ran. */
  cancelRequested?: boolean;
  /** Times a shutting-down worker stopped the job and put it back on the queue. */
  requeues?: number;
  /** The token that submitted it: id and name, never the token. */
  submittedBy?: { tokenId: string; name: string };
  /** A slice: its parent job's id, and where it sits. */
  parent?: string;
  slice?: SliceInfo;
  /** A sliced job: its slices' ids so far (batches are added as they start), and its host count. */
  slices?: string[];
  sliceHosts?: number;
  /** Times a slice was run again after its worker died. */
  retries?: number;
}
