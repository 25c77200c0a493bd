import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ExecuteJob, JobCredentials, JobOutcome } from '../jobs/runtime/job-run.ts';
import type { LogStore } from '../logs/log-store.ts';
import { createLogWriter } from '../logs/log-writer.ts';
import type { JobStore } from './job-store.ts';
import { QUEUE_NAME, queueKeys } from './queue-keys.ts';
import { recoverJobs } from './recover-jobs.ts';
import type { Sealer } from './sealer.ts';

/** Options of {@link startJobWorker}. */
export interface JobWorkerOptions {
  redis: Redis;
  store: JobStore;
  logs: LogStore;
  execute: ExecuteJob;
  logger: Logger;
  prefix?: string;
  /** Jobs run at once. Default 4. */
  concurrency?: number;
  sealer?: Sealer;
  runsDir?: string;
  /** Heartbeat lifetime; a worker silent this long is dead and its jobs fail. Default 30000 ms. */
  heartbeatMs?: number;
  /** Called when a job ends (metrics). */
  onJobEnd?: (outcome: JobOutcome, seconds: number) => void;
}

/** A running worker. */
export interface JobWorker {
  id: string;
  /** Stops taking jobs, cancels the running ones, and waits for them to end. */
  close(): Promise<void>;
}

/**
 * Takes jobs from the queue and runs them with `execute`: status in the JobStore, every entry in the job's
 * log, cancel through a Redis channel, and a heartbeat so other nodes can fail its jobs if it dies.
 */
export async function startJobWorker(options: JobWorkerOptions): Promise<JobWorker> {
  const prefix = options.prefix ?? 'outpost:';
  const keys = queueKeys(prefix);
  const id = `w-${hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30)}-${randomBytes(4).toString('hex')}`;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const running = new Map<string, AbortController>();
  let closing = false;
  const { redis, store, logs, logger } = options;

  const beat = async (): Promise<void> => {
    await redis.set(keys.worker(id), hostname(), 'PX', heartbeatMs);
  };
  await beat();
  const sweep = async (): Promise<void> => {
    const recovered = await recoverJobs({
      redis,
      store,
      logs,
      prefix,
      runsDir: options.runsDir,
      liveWorkers: new Set([id]),
    });
    for (const jobId of recovered) logger.warn({ job: jobId }, 'job of a dead worker marked failed');
  };
  await sweep();
  const timer = setInterval(
    () => {
      beat()
        .then(sweep)
        .catch((error: unknown) => logger.error({ err: error }, 'worker heartbeat failed'));
    },
    Math.max(200, Math.floor(heartbeatMs / 3)),
  );

  const subscriber = redis.duplicate();
  await subscriber.subscribe(keys.cancelChannel);
  subscriber.on('message', (_channel: string, jobId: string) => running.get(jobId)?.abort());

  const process = async (bullJob: Job<{ id: string }>): Promise<void> => {
    const jobId = bullJob.data.id;
    const startedAt = new Date();
    const started = await store.transition(jobId, ['queued'], {
      status: 'running',
      startedAt: startedAt.toISOString(),
      worker: id,
      node: hostname(),
    });
    if (!started) return; // canceled while queued, or already ended by recovery
    const controller = new AbortController();
    running.set(jobId, controller);
    const log = createLogWriter(logs, jobId);
    log.write('status', JSON.stringify({ status: 'running', worker: id, node: hostname() }));
    let outcome: JobOutcome;
    try {
      const job = await store.get(jobId);
      if (job.cancelRequested) controller.abort();
      const credentials = await takeCredentials(redis, jobId, keys.secret(jobId), options.sealer);
      outcome = await options.execute({
        job,
        signal: controller.signal,
        log,
        ...(credentials ? { credentials } : {}),
        record: (patch) => store.update(jobId, patch),
      });
    } catch (error) {
      logger.error({ job: jobId, err: error }, 'job failed with an error');
      outcome = { status: controller.signal.aborted ? 'canceled' : 'failed', reason: errorMessage(error) };
    } finally {
      running.delete(jobId);
    }
    if (controller.signal.aborted && outcome.status !== 'successful') {
      outcome = closing
        ? { ...outcome, status: 'failed', reason: `worker ${id} shut down while the job was running` }
        : { ...outcome, status: 'canceled', reason: 'canceled on request' };
    }
    await log
      .flush()
      .catch((error: unknown) => logger.error({ job: jobId, err: error }, 'log append failed'));
    await store.transition(jobId, ['running'], {
      status: outcome.status,
      endedAt: new Date().toISOString(),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.result ? { result: outcome.result } : {}),
      ...(outcome.command ? { command: outcome.command } : {}),
      ...(outcome.rc !== undefined ? { rc: outcome.rc } : {}),
      pgid: undefined,
    });
    const final = JSON.stringify({
      status: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    });
    await logs.append(jobId, 'status', final);
    await logs.append(jobId, 'end', final);
    options.onJobEnd?.(outcome, (Date.now() - startedAt.getTime()) / 1000);
    logger.info({ job: jobId, status: outcome.status }, 'job ended');
  };

  const bullConnection = redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(QUEUE_NAME, process, {
    connection: bullConnection,
    prefix: `${prefix}bull`,
    concurrency: options.concurrency ?? 4,
    // Our own heartbeat and recovery decide about dead workers; BullMQ must never re-run a job.
    maxStalledCount: 0,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'queue worker error'));

  return {
    id,
    async close() {
      closing = true;
      clearInterval(timer);
      for (const controller of running.values()) controller.abort();
      await worker.close();
      await subscriber.quit().catch(() => undefined);
      await redis.del(keys.worker(id)).catch(() => 0);
      await bullConnection.quit().catch(() => undefined);
    },
  };
}

/** Reads, deletes and unseals a job's credentials: they are used once and never kept. */
async function takeCredentials(
  redis: Redis,
  jobId: string,
  key: string,
  sealer: Sealer | undefined,
): Promise<JobCredentials | undefined> {
  const sealed = await redis.getdel(key);
  if (!sealed || !sealer) return undefined;
  const plain = sealer.unseal(jobId, sealed);
  try {
    return JSON.parse(plain.toString('utf8')) as JobCredentials;
  } finally {
    plain.fill(0);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
