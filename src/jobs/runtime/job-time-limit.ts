import type { JobRecord } from '../../queue/job-record.ts';
import { DEFAULT_TIMEOUT_SECONDS, PER_HOST_TIMEOUT_SECONDS } from './default-timeouts.ts';

/** A job's whole-job limit and where it comes from, for the job's log. */
export interface JobTimeLimit {
  seconds: number;
  /** `options.timeoutSeconds`, or the kind's default for this many hosts, in words. */
  why: string;
}

/**
 * The limit of `job` over `hosts` targets: the one it was given (`options.timeoutSeconds`, `--timeout`),
 * else its kind's default plus a share per host, so enrolling 40 VMs gets longer than enrolling one.
 */
export function jobTimeLimit(job: Pick<JobRecord, 'kind' | 'options'>, hosts: number): JobTimeLimit {
  const given = job.options?.timeoutSeconds;
  if (given !== undefined)
    return { seconds: given, why: 'given with the job: options.timeoutSeconds, --timeout' };
  const base = DEFAULT_TIMEOUT_SECONDS[job.kind];
  const each = PER_HOST_TIMEOUT_SECONDS[job.kind];
  const count = Math.max(1, hosts);
  return {
    seconds: base + each * count,
    why: `${job.kind}'s default: ${base} s + ${each} s per host x ${count}; --timeout changes it`,
  };
}
