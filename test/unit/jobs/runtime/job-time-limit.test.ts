import { describe, expect, it } from 'vitest';
import { jobTimeLimit } from '../../../../src/jobs/runtime/job-time-limit.ts';

describe('jobTimeLimit', () => {
  it('grows with the number of hosts, so enrolling 40 VMs gets more time than enrolling one', () => {
    const one = jobTimeLimit({ kind: 'enroll' }, 1);
    const forty = jobTimeLimit({ kind: 'enroll' }, 40);
    expect(one.seconds).toBe(615);
    expect(forty.seconds).toBe(600 + 15 * 40);
    expect(forty.why).toBe("enroll's default: 600 s + 15 s per host x 40; --timeout changes it");
    expect(jobTimeLimit({ kind: 'deploy-agent' }, 40).seconds).toBeGreaterThan(
      jobTimeLimit({ kind: 'deploy-agent' }, 1).seconds,
    );
    // A job for no host (yet) still gets its kind's base and one host's share.
    expect(jobTimeLimit({ kind: 'probe' }, 0).seconds).toBe(125);
  });

  it('takes the limit given with the job, whatever the host count', () => {
    expect(jobTimeLimit({ kind: 'enroll', options: { timeoutSeconds: 30 } }, 40)).toEqual({
      seconds: 30,
      why: 'given with the job: options.timeoutSeconds, --timeout',
    });
  });
});
