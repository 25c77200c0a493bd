import { Queue } from 'bullmq';
import type { RedisClient } from '../redis-client.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import type { JobCredentials } from '../jobs/runtime/job-run.ts';
import type { LogStore } from '../logs/log-store.ts';
import { FINAL_STATUSES, type JobRecord, type JobSpec } from './job-record.ts';
import { JobStore } from './job-store.ts';
import { QUEUE_NAME, queueKeys } from './queue-keys.ts';
import type { Sealer } from './sealer.ts';

/** Options of {@link JobQueue}. */
export interface JobQueueOptions {
  /** Key prefix of Outpost's own keys. Default `outpost:`. */
  prefix?: string;
  /** Seals credentials given with a job; without it such jobs are refused. */
  sealer?: Sealer;
}

/** Submission facts besides the spec. */
export interface SubmitOptions {
  /** The same key returns the same job instead of a new one. */
  idempotencyKey?: string;
  /** Keys are looked up only among this scope's (a project's), so no tenant gets another's job. Default `*`. */
  idempotencyScope?: string;
  credentials?: JobCredentials;
  /** The token that submits it, shown on the job. */
  submittedBy?: JobRecord['submittedBy'];
}

/** Submits and cancels jobs: the record in the JobStore, the id on the BullMQ queue. */
export class JobQueue {
  readonly queue: Queue;
  readonly #redis: RedisClient;
  readonly #store: JobStore;
  readonly #logs: LogStore;
  readonly #keys: ReturnType<typeof queueKeys>;
  readonly #sealer: Sealer | undefined;

  constructor(redis: RedisClient, store: JobStore, logs: LogStore, options: JobQueueOptions = {}) {
    const prefix = options.prefix ?? 'outpost:';
    this.#redis = redis;
    this.#store = store;
    this.#logs = logs;
    this.#keys = queueKeys(prefix);
    this.#sealer = options.sealer;
    this.queue = new Queue(QUEUE_NAME, { connection: redis, prefix: `${prefix}bull` });
  }

  /** Stores and enqueues a job; resolves to its record and whether it is new (false: idempotent repeat). */
  async submit(spec: JobSpec, options: SubmitOptions = {}): Promise<{ job: JobRecord; created: boolean }> {
    if (options.credentials && !this.#sealer) {
      throw new ValidationError('credentials', 'this server has no master key to seal credentials with');
    }
    const record: JobRecord = {
      ...spec,
      id: JobStore.newId(),
      status: 'queued',
      createdAt: new Date().toISOString(),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      ...(options.credentials ? { hasCredentials: true } : {}),
      ...(options.submittedBy ? { submittedBy: options.submittedBy } : {}),
    };
    const { record: job, created } = await this.#store.create(record, undefined, options.idempotencyScope);
    if (!created) return { job, created };
    if (options.credentials && this.#sealer) {
      const sealed = this.#sealer.seal(job.id, JSON.stringify(options.credentials));
      await this.#redis.set(this.#keys.secret(job.id), sealed, 'EX', 7 * 24 * 3600);
    }
    await this.#logs.append(job.id, 'status', JSON.stringify({ status: 'queued' }));
    await this.queue.add(
      job.kind,
      { id: job.id },
      {
        jobId: job.id,
        priority: spec.priority ?? 50,
        attempts: 1,
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
    return { job, created };
  }

  /**
   * Cancels a job: a queued one ends now; a running one is signalled to its worker, which kills the
   * run's process group and records `canceled`; a sliced one cancels each of its slices and ends once
   * they have. A job already ended is a conflict.
   */
  async cancel(id: string): Promise<JobRecord> {
    const endedAt = new Date().toISOString();
    const before = await this.#store.get(id);
    if (
      await this.#store.transition(id, ['queued'], {
        status: 'canceled',
        endedAt,
        reason: 'canceled on request',
      })
    ) {
      // A slice stays in its BullMQ flow: its worker finds it ended and lets the flow go on.
      if (!before.parent) await this.queue.remove(id).catch(() => 0);
      await this.#redis.del(this.#keys.secret(id));
      await this.#logs.append(
        id,
        'status',
        JSON.stringify({ status: 'canceled', reason: 'canceled on request' }),
      );
      await this.#logs.append(
        id,
        'end',
        JSON.stringify({ status: 'canceled', reason: 'canceled on request' }),
      );
      return this.#store.get(id);
    }
    const job = await this.#store.get(id);
    if (FINAL_STATUSES.includes(job.status)) {
      throw new ConflictError(`job ${JSON.stringify(id)} already ended as ${job.status}`, {
        jobStatus: job.status,
      });
    }
    await this.#store.update(id, { cancelRequested: true });
    await this.#redis.publish(this.#keys.cancelChannel, id);
    // A sliced job: every slice is canceled; slices of later batches are never started.
    for (const slice of job.slices ?? [])
      await this.cancel(slice).catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
    return this.#store.get(id);
  }

  /** Jobs waiting on the BullMQ queue (for /metrics). */
  async depth(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
