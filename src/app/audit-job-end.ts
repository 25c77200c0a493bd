import type { Logger } from 'pino';
import { toAuditEvent } from '../events/audit-event.ts';
import type { EventStore } from '../events/event-store.ts';
import type { JobOutcome } from '../jobs/runtime/job-run.ts';
import type { JobStore } from '../queue/job-store.ts';

/**
 * Records a job's end in the audit trail: who submitted it, its hosts, its final status. A failure to
 * record is logged, never the job's.
 */
export async function auditJobEnd(
  deps: { audit: EventStore; store: JobStore; logger: Logger },
  jobId: string,
  outcome: JobOutcome,
): Promise<void> {
  try {
    const job = await deps.store.get(jobId);
    const entry = {
      action: 'job.end',
      who: job.submittedBy ?? null,
      objects: [`job:${job.id}`, ...(job.hosts ?? []).map((host) => `host:${host}`)],
      outcome: outcome.status,
    };
    await deps.audit.publish([toAuditEvent(entry, job.project)]);
  } catch (error) {
    deps.logger.error({ err: error, job: jobId }, 'audit entry not recorded');
  }
}
