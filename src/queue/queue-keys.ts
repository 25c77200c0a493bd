/** Name of the one BullMQ queue of Outpost jobs. */
export const QUEUE_NAME = 'outpost-jobs';

/** Redis keys and channels of the queue layer, under the shared prefix. */
export function queueKeys(prefix: string) {
  return {
    cancelChannel: `${prefix}job-cancel`,
    secret: (jobId: string) => `${prefix}job-secret:${jobId}`,
    worker: (workerId: string) => `${prefix}worker:${workerId}`,
    /**
     * A worker's identity, kept ten heartbeat lifetimes: a worker whose heartbeat lapsed while its process
     * still runs on this machine is late (starved of CPU), not dead.
     */
    workerSeen: (workerId: string) => `${prefix}worker-seen:${workerId}`,
    /** A sliced job's plan (its batches of slices), kept until it ends. */
    plan: (jobId: string) => `${prefix}job-plan:${jobId}`,
    /** A sliced job's failed-host count (its failure budget), kept until it ends. */
    budget: (jobId: string) => `${prefix}job-budget:${jobId}`,
    /** Held while a sliced job's aggregate step runs. */
    aggregating: (jobId: string) => `${prefix}job-aggregating:${jobId}`,
  };
}
