import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, Queue, WaitingError, Worker, type Job } from 'bullmq';
import { duplicateClient, type RedisClient } from '../redis-client.ts';
import type { Logger } from 'pino';
import type { ExecuteJob, JobCredentials, JobOutcome } from '../jobs/runtime/job-run.ts';
import { rotateRunDirs, type RunDirRetention } from '../jobs/runtime/rotate-run-dirs.ts';
import type { LogStore } from '../logs/log-store.ts';
import { createLogWriter } from '../logs/log-writer.ts';
import { teeLogWriter } from '../logs/tee-log-writer.ts';
import { readProcessIdentity } from '../process-identity.ts';
import type { JobRecord, JobStatus, JobTimings } from './job-record.ts';
import type { JobStore } from './job-store.ts';
import { isSafeToRerun } from './is-safe-to-rerun.ts';
import { AGGREGATE, JobSlices } from './job-slices.ts';
import { ProxySlots } from './proxy-slots.ts';
import { QUEUE_NAME, queueKeys } from './queue-keys.ts';
import { LATE_LIFETIMES, recoverJobs } from './recover-jobs.ts';
import { requeueJob } from './requeue-job.ts';
import type { Sealer } from './sealer.ts';
import type { PlanSlices } from './slice-plan.ts';

/** Options of {@link startJobWorker}. */
export interface JobWorkerOptions {
  redis: RedisClient;
  store: JobStore;
  logs: LogStore;
  execute: ExecuteJob;
  logger: Logger;
  prefix?: string;
  /** Jobs run at once. Default 4. */
  concurrency?: number;
  sealer?: Sealer;
  runsDir?: string;
  /** How long and how many run dirs of `runsDir` are kept; checked at start and then once a minute. */
  runRetention?: RunDirRetention;
  /**
   * Heartbeat lifetime; a worker silent this long is dead and its jobs fail (one on this machine whose
   * process still runs gets ten lifetimes). Default 30000 ms.
   */
  heartbeatMs?: number;
  /** How long `close()` lets running jobs finish before it stops them. Default 0. */
  graceMs?: number;
  /** Called when a job ends (metrics, the audit trail). */
  onJobEnd?: (outcome: JobOutcome, seconds: number, jobId: string) => void;
  /** Decides whether a job runs as slices (child jobs on any worker); without it every job runs whole. */
  planSlices?: PlanSlices;
}

/** Slices of one proxy at once when the job does not say (sshd's MaxStartups starts refusing at 10). */
const DEFAULT_PROXY_CONCURRENCY = 2;

/** A running worker. */
export interface JobWorker {
  id: string;
  /**
   * Stops taking jobs and lets the running ones finish within the grace period; then stops them: a job
   * safe to re-run goes back to the queue (credentials and log kept), any other ends `failed` saying
   * why. Resolves when no job of this worker runs any more. Safe to call twice.
   */
  close(): Promise<void>;
  /** Ends the grace period of a `close()` now (a second signal): running jobs are stopped at once. */
  endGrace(): void;
}

/** Why a run was aborted: a cancel request, or the end of the grace period of a shutdown. */
const CANCEL = 'cancel';
const SHUTDOWN = 'shutdown';

/**
 * Takes jobs from the queue and runs them with `execute`: status in the JobStore, every entry in the job's
 * log, cancel through a Redis channel, and a heartbeat (carrying this process's identity) so other nodes
 * can fail its jobs if it dies, at once when they run on the same machine.
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
  let closing: Promise<void> | undefined;
  let graceOver = false;
  let endGrace = (): void => undefined;
  const graceEnded = new Promise<void>((resolve) => {
    endGrace = () => {
      graceOver = true;
      resolve();
    };
  });
  const { redis, store, logs, logger } = options;

  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: `${prefix}bull` });
  const slices = new JobSlices({
    redis,
    store,
    logs,
    prefix,
    sealer: options.sealer,
    queue,
    ...(options.onJobEnd ? { onParentEnd: options.onJobEnd } : {}),
  });
  const slots = new ProxySlots(redis, prefix, Math.max(5000, heartbeatMs * 2));
  // Proxy slots held by this worker's running slices, renewed with the heartbeat.
  const heldSlots = new Map<string, string>();
  const heartbeat = JSON.stringify({ node: hostname(), process: await readProcessIdentity(process.pid) });
  const beat = async (): Promise<void> => {
    await redis.set(keys.worker(id), heartbeat, 'PX', heartbeatMs);
    await redis.set(keys.workerSeen(id), heartbeat, 'PX', heartbeatMs * LATE_LIFETIMES);
    for (const [jobId, proxy] of heldSlots) await slots.renew(proxy, jobId);
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
      slices,
      logger,
    });
    for (const jobId of recovered) logger.warn({ job: jobId }, 'job of a dead worker marked failed');
  };
  await sweep();
  let rotatedAt = 0;
  const rotate = async (): Promise<void> => {
    const { runsDir, runRetention } = options;
    if (!runsDir || !runRetention || Date.now() - rotatedAt < 60_000) return;
    rotatedAt = Date.now();
    const removed = await rotateRunDirs(runsDir, runRetention, async (jobId) => {
      if (running.has(jobId)) return true;
      const status = (await store.find(jobId))?.status;
      return status === 'running' || status === 'queued';
    });
    if (removed.length > 0) logger.info({ removed: removed.length }, 'old run dirs removed');
  };
  await rotate();
  const timer = setInterval(
    () => {
      beat()
        .then(sweep)
        .then(rotate)
        .catch((error: unknown) => logger.error({ err: error }, 'worker heartbeat failed'));
    },
    Math.max(200, Math.floor(heartbeatMs / 3)),
  );

  const subscriber = duplicateClient(redis);
  await subscriber.subscribe(keys.cancelChannel);
  subscriber.on('message', (_channel: string, jobId: string) => running.get(jobId)?.abort(CANCEL));

  const processJob = async (bullJob: Job<{ id: string; batch?: number }>, token?: string): Promise<void> => {
    const jobId = bullJob.data.id;
    if (bullJob.name === AGGREGATE) {
      if (await slices.aggregate(jobId, bullJob.data.batch ?? 0)) return;
      // A slice run again after its worker died has not ended yet: look again in a second.
      await bullJob.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    const queued = await store.find(jobId);
    if (queued?.status !== 'queued') return; // canceled while queued, or already ended by recovery
    const proxy = queued.slice?.proxy;
    if (queued.parent) {
      const refused = await slices.refuseStart(queued);
      if (refused) {
        await slices.skip(queued, refused);
        return;
      }
      const limit = queued.options?.proxyConcurrency ?? DEFAULT_PROXY_CONCURRENCY;
      if (proxy && !(await slots.acquire(proxy, jobId, limit))) {
        // The proxy serves enough slices now: this one waits, on no worker, and asks again.
        await bullJob.moveToDelayed(Date.now() + 500 + Math.floor(Math.random() * 1000), token);
        throw new DelayedError();
      }
      if (proxy) heldSlots.set(jobId, proxy);
    }
    try {
      await runJob(bullJob, token, queued);
    } finally {
      // Only once the slice's failures are counted: a waiting slice then sees the budget as it is.
      await releaseSlot(jobId);
    }
  };

  const runJob = async (
    bullJob: Job<{ id: string }>,
    token: string | undefined,
    queued: JobRecord,
  ): Promise<void> => {
    const jobId = queued.id;
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
    if (graceOver) controller.abort(SHUTDOWN); // Taken as the grace period ended: it goes back at once.
    let log = createLogWriter(logs, jobId);
    if (queued.parent && queued.slice) {
      const parentLog = createLogWriter(logs, queued.parent, { slice: queued.slice.label });
      parentLog.write('stdout', `outpost: slice ${jobId} running on worker ${id} (${hostname()})`);
      log = teeLogWriter(log, parentLog);
    }
    const timings: JobTimings = { phases: [], runs: [] };
    log.write('status', JSON.stringify({ status: 'running', worker: id, node: hostname() }));
    let outcome: JobOutcome;
    let credentials: JobCredentials | undefined;
    let handedOver = false;
    try {
      const job = await store.get(jobId);
      if (job.cancelRequested) controller.abort(CANCEL);
      // A slice's credentials stay sealed until it ends: a run again after its worker died needs them.
      credentials = await takeCredentials(redis, jobId, keys.secret(jobId), options.sealer, !job.parent);
      const plan = job.cancelRequested ? undefined : await options.planSlices?.(job);
      if (plan) {
        await slices.split(job, plan, credentials);
        handedOver = true;
      }
      outcome = handedOver
        ? { status: 'successful' }
        : await options.execute({
            job,
            signal: controller.signal,
            log,
            ...(credentials ? { credentials } : {}),
            record: (patch) => store.update(jobId, patch),
            timings,
          });
    } catch (error) {
      logger.error({ job: jobId, err: error }, 'job failed with an error');
      outcome = { status: controller.signal.aborted ? 'canceled' : 'failed', reason: errorMessage(error) };
    } finally {
      running.delete(jobId);
    }
    if (handedOver) {
      await log.flush().catch(() => undefined);
      logger.info({ job: jobId }, 'job handed over to its slices');
      return;
    }
    await log
      .flush()
      .catch((error: unknown) => logger.error({ job: jobId, err: error }, 'log append failed'));
    // A failed re-queue may have left the record `queued`: it ends from there too.
    let endFrom: JobStatus[] = ['running'];
    if (controller.signal.aborted && outcome.status !== 'successful') {
      const job = await store.get(jobId);
      if (controller.signal.reason !== SHUTDOWN || job.cancelRequested) {
        outcome = { ...outcome, status: 'canceled', reason: 'canceled on request' };
      } else if (!isSafeToRerun(job)) {
        outcome = { ...outcome, status: 'failed', reason: shutdownReason(id, job) };
      } else {
        const reason = `worker ${id} shut down while the job was running; re-queued (its play is safe to re-run)`;
        const requeue = {
          redis,
          store,
          logs,
          prefix,
          sealer: options.sealer,
          bullJob,
          token,
          credentials,
          reason,
        };
        const requeued = await requeueJob(requeue).catch((error: unknown) => error);
        if (requeued === false) return; // Ended meanwhile (recovered by another node).
        if (requeued === true) {
          logger.info({ job: jobId }, 'job re-queued');
          throw new WaitingError(); // BullMQ: the job is waiting again, neither completed nor failed.
        }
        logger.error({ job: jobId, err: requeued }, 'job could not be re-queued');
        outcome = { ...outcome, status: 'failed', reason: `${reason} failed: ${errorMessage(requeued)}` };
        endFrom = ['running', 'queued'];
      }
    }
    await store.transition(jobId, endFrom, {
      status: outcome.status,
      endedAt: new Date().toISOString(),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.result ? { result: outcome.result } : {}),
      ...(outcome.command ? { command: outcome.command } : {}),
      ...(outcome.rc !== undefined ? { rc: outcome.rc } : {}),
      ...(timings.phases.length > 0 || timings.runs.length > 0 ? { timings } : {}),
      pgid: undefined,
    });
    const final = JSON.stringify({
      status: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    });
    await logs.append(jobId, 'status', final);
    await logs.append(jobId, 'end', final);
    if (queued.parent)
      await slices
        .settle(queued, outcome)
        .catch((error: unknown) => logger.error({ job: jobId, err: error }, 'slice not settled'));
    options.onJobEnd?.(outcome, (Date.now() - startedAt.getTime()) / 1000, jobId);
    logger.info({ job: jobId, status: outcome.status }, 'job ended');
  };

  const releaseSlot = async (jobId: string): Promise<void> => {
    const proxy = heldSlots.get(jobId);
    if (!proxy) return;
    heldSlots.delete(jobId);
    await slots
      .release(proxy, jobId)
      .catch((error: unknown) => logger.warn({ err: error }, 'slot release failed'));
  };

  const bullConnection = duplicateClient(redis, { maxRetriesPerRequest: null });
  const worker = new Worker(QUEUE_NAME, processJob, {
    connection: bullConnection,
    prefix: `${prefix}bull`,
    concurrency: options.concurrency ?? 4,
    // Our own heartbeat and recovery decide about dead workers; BullMQ must never re-run a job.
    maxStalledCount: 0,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'queue worker error'));

  const drain = async (): Promise<void> => {
    // BullMQ's close takes no new job and resolves once the running ones have ended.
    const drained = worker
      .close()
      .catch((error: unknown) => logger.error({ err: error }, 'worker close failed'));
    if (running.size > 0)
      logger.info(
        { jobs: [...running.keys()], graceSeconds: (options.graceMs ?? 0) / 1000 },
        'waiting for running jobs to finish (a second signal stops them now)',
      );
    const graceTimer = setTimeout(endGrace, options.graceMs ?? 0);
    await Promise.race([drained, graceEnded]);
    clearTimeout(graceTimer);
    endGrace();
    for (const controller of running.values()) controller.abort(SHUTDOWN);
    await drained;
    // The heartbeat goes on until here: other nodes must not take a job that is finishing as dead.
    clearInterval(timer);
    await slices.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await subscriber.quit().catch(() => undefined);
    await redis.del(keys.worker(id), keys.workerSeen(id)).catch(() => 0);
    await bullConnection.quit().catch(() => undefined);
  };

  return {
    id,
    close() {
      closing ??= drain();
      return closing;
    },
    endGrace: () => endGrace(),
  };
}

/** Why a job that is not safe to re-run failed when its worker shut down, and how to make it re-queue. */
function shutdownReason(workerId: string, job: JobRecord): string {
  const why =
    job.options?.safeToRerun === false
      ? 'it has options.safeToRerun false'
      : `a ${job.kind} job is re-queued only with options.safeToRerun`;
  return `worker ${workerId} shut down while the job was running; not re-queued: ${why}`;
}

/** Reads, deletes (unless told to keep them) and unseals a job's credentials: they are used once and never kept. */
async function takeCredentials(
  redis: RedisClient,
  jobId: string,
  key: string,
  sealer: Sealer | undefined,
  remove = true,
): Promise<JobCredentials | undefined> {
  const sealed = remove ? await redis.getdel(key) : await redis.get(key);
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
