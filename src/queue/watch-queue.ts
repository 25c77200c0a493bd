import { randomBytes } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { duplicateClient, type RedisClient } from '../redis-client.ts';
import type { Logger } from 'pino';
import type { WebhookDelivery } from '../jobs/agent/post-webhook.ts';
import { acquireLease, releaseLease } from '../lease.ts';

/** Name of the BullMQ queue of the agent watch: the repeatable `watch` run and its `notify` deliveries. */
export const WATCH_QUEUE_NAME = 'outpost-watch';
const SCHEDULER_ID = 'agent-watch';

/** Options of {@link startWatchQueue}. */
export interface WatchQueueOptions {
  /** Redis of the queue; the worker takes a duplicate of it. */
  redis: RedisClient;
  /** Key prefix of Outpost's own keys (the queue's keys go under `<prefix>bull`). */
  prefix: string;
  /** Time between two watch runs. */
  intervalMs: number;
  logger: Logger;
  /** One watch run; resolves to the webhook messages it produced (one per project with transitions). */
  runWatch(): Promise<unknown[]>;
  /** Delivers one message; absent when no webhook is configured. */
  deliver?: (payload: unknown) => Promise<WebhookDelivery>;
  /** Tries of one delivery. Default 8. */
  deliveryAttempts?: number;
  /** First delay before a retry, doubled at each. Default 2000 ms. */
  deliveryBackoffMs?: number;
}

/** The running watch of one node. */
export interface WatchQueue {
  close(): Promise<void>;
}

/**
 * Schedules the watch as a BullMQ job scheduler (one schedule for all nodes: the latest start's interval
 * wins) and works its jobs: a `watch` run holds a Redis lease so two nodes never judge the same hosts at
 * once; each message it returns becomes a `notify` job, retried with exponential backoff by BullMQ (a
 * receiver that answers 4xx other than 408/425/429 is not tried again).
 */
export async function startWatchQueue(options: WatchQueueOptions): Promise<WatchQueue> {
  const { redis, prefix, logger } = options;
  const bullPrefix = `${prefix}bull`;
  const queue = new Queue(WATCH_QUEUE_NAME, { connection: redis, prefix: bullPrefix });
  await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { every: options.intervalMs },
    { name: 'watch', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
  );
  const lockKey = `${prefix}watch:lock`;
  // A run that outlives this is stuck: the next one may go ahead.
  const lockMs = Math.max(5 * 60_000, 2 * options.intervalMs);
  const node = randomBytes(6).toString('hex');

  const work = async (job: Job): Promise<string> => {
    if (job.name === 'watch') {
      const owner = `${node}:${job.id ?? ''}`;
      if (!(await acquireLease(redis, lockKey, owner, lockMs))) return 'skipped: another run holds the lock';
      try {
        const messages = await options.runWatch();
        if (options.deliver)
          for (const payload of messages)
            await queue.add(
              'notify',
              { payload },
              {
                attempts: options.deliveryAttempts ?? 8,
                backoff: { type: 'exponential', delay: options.deliveryBackoffMs ?? 2000 },
                removeOnComplete: 1000,
                removeOnFail: 1000,
              },
            );
        return `${messages.length} message(s)`;
      } finally {
        await releaseLease(redis, lockKey, owner).catch(() => false);
      }
    }
    if (job.name === 'notify') {
      if (!options.deliver) return 'no webhook configured';
      const delivery = await options.deliver((job.data as { payload: unknown }).payload);
      if (delivery.ok) return `delivered (${delivery.status})`;
      logger.warn({ attempt: job.attemptsMade + 1, detail: delivery.detail }, 'watch webhook not delivered');
      throw delivery.retry ? new Error(delivery.detail) : new UnrecoverableError(delivery.detail);
    }
    throw new UnrecoverableError(`unknown watch job ${JSON.stringify(job.name)}`);
  };

  const connection = duplicateClient(redis, { maxRetriesPerRequest: null });
  const worker = new Worker(WATCH_QUEUE_NAME, work, { connection, prefix: bullPrefix, concurrency: 2 });
  worker.on('error', (error) => logger.error({ err: error }, 'watch worker error'));
  worker.on('failed', (job, error) => {
    if (job?.name === 'watch') logger.error({ err: error }, 'watch run failed');
  });
  logger.info(
    { intervalMs: options.intervalMs, webhook: options.deliver !== undefined },
    'agent watch started',
  );
  return {
    async close() {
      await worker.close();
      await connection.quit().catch(() => undefined);
      await queue.close();
    },
  };
}
