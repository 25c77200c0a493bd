/** Name of the one BullMQ queue of Outpost jobs. */
export const QUEUE_NAME = 'outpost-jobs';

/** Redis keys and channels of the queue layer, under the shared prefix. */
export function queueKeys(prefix: string) {
  return {
    cancelChannel: `${prefix}job-cancel`,
    secret: (jobId: string) => `${prefix}job-secret:${jobId}`,
    worker: (workerId: string) => `${prefix}worker:${workerId}`,
  };
}
