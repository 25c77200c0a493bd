import type { Job } from 'bullmq';
import type { RedisClient } from '../redis-client.ts';
import type { JobCredentials } from '../jobs/runtime/job-run.ts';
import type { LogStore } from '../logs/log-store.ts';
import type { JobStore } from './job-store.ts';
import { queueKeys } from './queue-keys.ts';
import type { Sealer } from './sealer.ts';

/** What {@link requeueJob} needs. */
export interface RequeueOptions {
  redis: RedisClient;
  store: JobStore;
  logs: LogStore;
  prefix: string;
  sealer: Sealer | undefined;
  /** The BullMQ job this worker holds, and the lock token it holds it with. */
  bullJob: Job<{ id: string }>;
  token: string | undefined;
  /** The credentials the stopped run had taken (they are used once, so the next run needs them again). */
  credentials: JobCredentials | undefined;
  /** Why, for the job's log. */
  reason: string;
}

/**
 * Puts a job that a shutting-down worker stopped back on the queue: its record `queued` again (run facts
 * cleared, `requeues` counted), its credentials sealed again for the next run, a `queued` status entry
 * with the reason in its log (followers keep following), then the BullMQ job back among the waiting
 * ones, for any worker. Resolves false when the job was no longer running here (it ended meanwhile).
 */
export async function requeueJob(options: RequeueOptions): Promise<boolean> {
  const { store, bullJob } = options;
  const id = bullJob.data.id;
  const keys = queueKeys(options.prefix);
  const job = await store.get(id);
  if (options.credentials && options.sealer) {
    const sealed = options.sealer.seal(id, JSON.stringify(options.credentials));
    await options.redis.set(keys.secret(id), sealed, 'EX', 7 * 24 * 3600);
  }
  const requeued = await store.transition(id, ['running'], {
    status: 'queued',
    startedAt: undefined,
    worker: undefined,
    node: undefined,
    pgid: undefined,
    requeues: (job.requeues ?? 0) + 1,
  });
  if (!requeued) {
    await options.redis.del(keys.secret(id));
    return false;
  }
  await options.logs.append(id, 'status', JSON.stringify({ status: 'queued', reason: options.reason }));
  await bullJob.moveToWait(options.token);
  return true;
}
