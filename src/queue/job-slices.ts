import { FlowProducer, type Queue } from 'bullmq';
import type { RedisClient } from '../redis-client.ts';
import type { HostSummary } from '../ansible/summarize-run.ts';
import { describeBudgetExceeded, isBudgetExceeded, type FailureBudget } from '../domain/failure-budget.ts';
import type { JobCredentials, JobOutcome } from '../jobs/runtime/job-run.ts';
import type { LogStore } from '../logs/log-store.ts';
import { countFailedHosts } from './count-failed-hosts.ts';
import { FINAL_STATUSES, type JobOptions, type JobRecord, type JobStatus } from './job-record.ts';
import type { JobStore } from './job-store.ts';
import { QUEUE_NAME, queueKeys } from './queue-keys.ts';
import type { Sealer } from './sealer.ts';
import type { SlicePlan } from './slice-plan.ts';

/** BullMQ name of a parent's step that runs once a batch's slices have all ended. */
export const AGGREGATE = 'aggregate';

/** What {@link JobSlices} needs. */
export interface JobSlicesOptions {
  redis: RedisClient;
  store: JobStore;
  logs: LogStore;
  prefix: string;
  sealer: Sealer | undefined;
  /** The queue, to run a slice again after its worker died. */
  queue: Queue;
  /** Told when a parent ends (metrics, the audit trail). */
  onParentEnd?: (outcome: JobOutcome, seconds: number, jobId: string) => void;
}

// Options that shape the parent only; a slice runs its hosts whole.
const PARENT_ONLY: (keyof JobOptions)[] = ['sliceSize', 'maxFailures', 'serial'];

/**
 * A sliced job: its parent record keeps the plan and the failure count; each rolling batch is a BullMQ
 * flow of its slices (child jobs any worker takes) under one `aggregate` step, which runs when they have
 * all ended and either starts the next batch (within the failure budget) or ends the parent with what
 * its slices did. Slices copy their log entries, labelled, into the parent's log.
 */
export class JobSlices {
  readonly #options: JobSlicesOptions;
  readonly #flows: FlowProducer;
  readonly #keys: ReturnType<typeof queueKeys>;

  constructor(options: JobSlicesOptions) {
    this.#options = options;
    this.#flows = new FlowProducer({ connection: options.redis, prefix: `${options.prefix}bull` });
    this.#keys = queueKeys(options.prefix);
  }

  /** Hands a running job over to its slices: the plan kept, the first batch queued, no worker holding it. */
  async split(parent: JobRecord, plan: SlicePlan, credentials: JobCredentials | undefined): Promise<void> {
    const { redis, store, logs, sealer } = this.#options;
    await redis.set(this.#keys.plan(parent.id), JSON.stringify(plan), 'EX', 30 * 24 * 3600);
    // Later batches need the credentials too: kept sealed under the parent until it ends.
    if (credentials && sealer)
      await redis.set(
        this.#keys.secret(parent.id),
        sealer.seal(parent.id, JSON.stringify(credentials)),
        'EX',
        7 * 24 * 3600,
      );
    await store.transition(parent.id, ['running'], {
      worker: undefined,
      node: undefined,
      slices: [],
      sliceHosts: plan.total,
    });
    const slices = plan.batches.reduce((sum, batch) => sum + batch.length, 0);
    const serial = plan.batches.length > 1 ? ` in ${plan.batches.length} rolling batches` : '';
    await logs.append(
      parent.id,
      'stdout',
      `outpost: ${plan.total} host(s) in ${slices} slice(s)${serial}; any worker runs them`,
    );
    await this.#startBatch(parent, plan, 0);
  }

  /**
   * Why a queued slice must not start, or undefined: its parent was canceled, or the failure budget is
   * spent (slices already running finish; these are not started).
   */
  async refuseStart(slice: JobRecord): Promise<string | undefined> {
    if (!slice.parent) return undefined;
    const parent = await this.#options.store.find(slice.parent);
    if (!parent || parent.cancelRequested || FINAL_STATUSES.includes(parent.status))
      return 'not started: the job was canceled';
    const failed = await this.#failed(parent.id);
    const total = parent.sliceHosts ?? 0;
    if (isBudgetExceeded(budgetOf(parent.options), failed, total))
      return `not started: ${describeBudgetExceeded(failed, total)}`;
    return undefined;
  }

  /** Ends a queued slice without running it, saying why in its log and its parent's. */
  async skip(slice: JobRecord, reason: string): Promise<void> {
    const { store, logs, redis } = this.#options;
    const ended = await store.transition(slice.id, ['queued'], {
      status: 'canceled',
      endedAt: new Date().toISOString(),
      reason,
    });
    if (!ended) return;
    await redis.del(this.#keys.secret(slice.id));
    const final = JSON.stringify({ status: 'canceled', reason });
    await logs.append(slice.id, 'status', final);
    await logs.append(slice.id, 'end', final);
    await this.#tellParent(slice, `${slice.hosts?.length ?? 0} host(s) ${reason}`);
  }

  /** After a slice ran: its failed hosts count against the parent's budget; the parent's log says how it ended. */
  async settle(slice: JobRecord, outcome: JobOutcome): Promise<void> {
    if (!slice.parent) return;
    const failed = outcome.status === 'canceled' ? 0 : countFailedHosts(slice.hosts ?? [], outcome);
    if (failed > 0) await this.#options.redis.hincrby(this.#keys.budget(slice.parent), 'failed', failed);
    await this.#options.redis.del(this.#keys.secret(slice.id));
    const why = outcome.reason ? `: ${outcome.reason.slice(0, 500)}` : '';
    await this.#tellParent(slice, `ended ${outcome.status} (${failed} failed host(s))${why}`);
  }

  /**
   * A slice whose worker died runs once more on any worker: queued again, its log and its parent's say so.
   * Resolves false when it already had its retry (it then fails as any job of a dead worker).
   */
  async retry(slice: JobRecord, why: string): Promise<boolean> {
    const { store, logs, queue } = this.#options;
    const retries = slice.retries ?? 0;
    if (!slice.parent || retries >= 1) return false;
    const requeued = await store.transition(slice.id, ['running'], {
      status: 'queued',
      startedAt: undefined,
      worker: undefined,
      node: undefined,
      pgid: undefined,
      retries: retries + 1,
    });
    if (!requeued) return false;
    const reason = `${why}; run again on another worker`;
    await logs.append(slice.id, 'status', JSON.stringify({ status: 'queued', reason }));
    await this.#tellParent(slice, reason);
    await queue.add(
      slice.kind,
      { id: slice.id },
      {
        jobId: `${slice.id}-r${retries + 1}`,
        priority: slice.priority ?? 50,
        attempts: 1,
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
    return true;
  }

  /**
   * The `aggregate` step of batch `batch`: false while a slice has not ended yet (one run again after its
   * worker died); otherwise the next batch is started, or the parent ends with its slices' results.
   */
  async aggregate(parentId: string, batch: number): Promise<boolean> {
    const { redis } = this.#options;
    // One step at a time per job: the flow's own step and a rescue (see `rescue`) may meet.
    const lock = this.#keys.aggregating(parentId);
    if ((await redis.set(lock, '1', 'PX', 60_000, 'NX')) !== 'OK') return false;
    try {
      return await this.#aggregate(parentId, batch);
    } finally {
      await redis.del(lock);
    }
  }

  /**
   * Runs the step of a sliced job whose slices have all ended a while ago but which is still running: its
   * `aggregate` step was lost (the worker running it died). Called by every worker's recovery sweep.
   */
  async rescue(parent: JobRecord, quietMs = 30_000): Promise<void> {
    if (parent.status !== 'running' || parent.worker || !parent.slices) return;
    const slices = await this.#slicesOf(parent);
    if (slices.length === 0 || slices.some((slice) => !FINAL_STATUSES.includes(slice.status))) return;
    const last = Math.max(...slices.map((slice) => Date.parse(slice.endedAt ?? '') || 0));
    if (Date.now() - last < quietMs) return;
    await this.aggregate(parent.id, currentBatch(slices));
  }

  async #aggregate(parentId: string, batch: number): Promise<boolean> {
    const { store, redis } = this.#options;
    const parent = await store.find(parentId);
    if (!parent || parent.status !== 'running') return true;
    const slices = await this.#slicesOf(parent);
    // The step of an earlier batch, met late: the current batch's own step decides.
    if (batch < currentBatch(slices)) return true;
    if (slices.some((slice) => !FINAL_STATUSES.includes(slice.status))) return false;
    const plan = JSON.parse(
      (await redis.get(this.#keys.plan(parentId))) ?? '{"total":0,"batches":[]}',
    ) as SlicePlan;
    const failed = await this.#failed(parentId);
    const total = parent.sliceHosts ?? plan.total;
    const result = mergeResults(slices);
    if (parent.cancelRequested)
      return this.#finish(parent, { status: 'canceled', reason: 'canceled on request', result });
    if (isBudgetExceeded(budgetOf(parent.options), failed, total))
      return this.#finish(parent, {
        status: 'failed',
        reason: describeBudgetExceeded(failed, total),
        result,
      });
    if (batch + 1 < plan.batches.length) {
      await this.#options.logs.append(
        parentId,
        'stdout',
        `outpost: batch ${batch + 1} of ${plan.batches.length} ended within the failure budget (${failed} of ${total} hosts failed); batch ${batch + 2} starts`,
      );
      await this.#startBatch(parent, plan, batch + 1);
      return true;
    }
    return this.#finish(parent, { ...judgeSlices(slices), result });
  }

  async close(): Promise<void> {
    await this.#flows.close();
  }

  /** Queues batch `batch`: each slice's record and log, then one flow of the slices under its aggregate step. */
  async #startBatch(parent: JobRecord, plan: SlicePlan, batch: number): Promise<void> {
    const { store, logs, redis, sealer } = this.#options;
    const specs = plan.batches[batch] ?? [];
    const before = plan.batches.slice(0, batch).reduce((sum, slices) => sum + slices.length, 0);
    const sealed = parent.hasCredentials ? await redis.get(this.#keys.secret(parent.id)) : null;
    const credentials = sealed && sealer ? sealer.unseal(parent.id, sealed) : undefined;
    const options = { ...parent.options };
    for (const name of PARENT_ONLY) delete options[name];
    const children: JobRecord[] = specs.map((spec, i) => {
      const index = before + i + 1;
      return {
        id: `${parent.id}-s${index}`,
        kind: parent.kind,
        ...(parent.project ? { project: parent.project } : {}),
        hosts: spec.hosts,
        options,
        ...(parent.priority !== undefined ? { priority: parent.priority } : {}),
        ...(parent.submittedBy ? { submittedBy: parent.submittedBy } : {}),
        ...(credentials ? { hasCredentials: true } : {}),
        status: 'queued',
        createdAt: new Date().toISOString(),
        parent: parent.id,
        slice: {
          index,
          batch: batch + 1,
          label: `${spec.proxy ?? 'direct'}#${index}`,
          ...(spec.proxy ? { proxy: spec.proxy } : {}),
        },
      };
    });
    try {
      for (const child of children) {
        await store.create(child);
        if (credentials && sealer)
          await redis.set(
            this.#keys.secret(child.id),
            sealer.seal(child.id, credentials.toString('utf8')),
            'EX',
            7 * 24 * 3600,
          );
        await logs.append(child.id, 'status', JSON.stringify({ status: 'queued', parent: parent.id }));
      }
    } finally {
      credentials?.fill(0);
    }
    const ids = [...(parent.slices ?? []), ...children.map((child) => child.id)];
    parent.slices = ids;
    await store.update(parent.id, { slices: ids });
    const listed = children
      .map((child) => `${child.slice?.label ?? child.id} (${child.hosts?.join(', ') ?? ''})`)
      .join('; ');
    await logs.append(
      parent.id,
      'stdout',
      `outpost: batch ${batch + 1} of ${plan.batches.length}: ${children.length} slice(s): ${listed}`,
    );
    const priority = parent.priority ?? 50;
    await this.#flows.add({
      name: AGGREGATE,
      queueName: QUEUE_NAME,
      data: { id: parent.id, batch },
      opts: { jobId: `${parent.id}-b${batch + 1}`, priority, removeOnComplete: { age: 24 * 3600 } },
      children: children.map((child) => ({
        name: child.kind,
        queueName: QUEUE_NAME,
        data: { id: child.id },
        opts: {
          jobId: child.id,
          priority,
          attempts: 1,
          // A slice whose worker died fails in BullMQ; the aggregate step waits for its record instead.
          ignoreDependencyOnFailure: true,
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    });
  }

  /** Ends the parent: its record, its log's last entries, the plan and counters gone. */
  async #finish(parent: JobRecord, outcome: JobOutcome): Promise<boolean> {
    const { store, logs, redis } = this.#options;
    const ended = await store.transition(parent.id, ['running'], {
      status: outcome.status,
      endedAt: new Date().toISOString(),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.result ? { result: outcome.result } : {}),
    });
    if (!ended) return true;
    await redis.del(this.#keys.secret(parent.id), this.#keys.plan(parent.id), this.#keys.budget(parent.id));
    const final = JSON.stringify({
      status: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    });
    await logs.append(parent.id, 'status', final);
    await logs.append(parent.id, 'end', final);
    const seconds = parent.startedAt ? (Date.now() - Date.parse(parent.startedAt)) / 1000 : 0;
    this.#options.onParentEnd?.(outcome, seconds, parent.id);
    return true;
  }

  async #slicesOf(parent: JobRecord): Promise<JobRecord[]> {
    const { store } = this.#options;
    const found = await Promise.all((parent.slices ?? []).map((id) => store.find(id)));
    return found.filter((slice) => slice !== undefined);
  }

  async #failed(parentId: string): Promise<number> {
    return Number((await this.#options.redis.hget(this.#keys.budget(parentId), 'failed')) ?? 0);
  }

  async #tellParent(slice: JobRecord, line: string): Promise<void> {
    if (!slice.parent) return;
    await this.#options.logs.appendMany(slice.parent, [
      {
        type: 'stdout',
        data: `outpost: slice ${slice.id}: ${line}`,
        ...(slice.slice ? { slice: slice.slice.label } : {}),
      },
    ]);
  }
}

/** A job's failure budget: its own, else none for a rollout in batches (any failure stops it), else unlimited. */
function budgetOf(options: JobOptions | undefined): FailureBudget | undefined {
  return options?.maxFailures ?? (options?.serial ? 0 : undefined);
}

/** The 0-based index of the newest batch started. */
function currentBatch(slices: JobRecord[]): number {
  return Math.max(0, ...slices.map((slice) => (slice.slice?.batch ?? 1) - 1));
}

/** The parent's per-host result: its slices' hosts are disjoint, so their results join. */
function mergeResults(slices: JobRecord[]): Record<string, HostSummary> {
  const result: Record<string, HostSummary> = {};
  for (const slice of slices) Object.assign(result, slice.result ?? {});
  return result;
}

/** The parent's status from its slices: successful when all were, else the first way they were not. */
function judgeSlices(slices: JobRecord[]): Pick<JobOutcome, 'status' | 'reason'> {
  const undone = slices.filter((slice) => slice.status !== 'successful');
  if (slices.length > 0 && undone.length === 0) return { status: 'successful' };
  const order: JobStatus[] = ['failed', 'timeout', 'canceled'];
  const status = order.find((s) => undone.some((slice) => slice.status === s)) ?? 'failed';
  const listed = undone
    .map(
      (slice) =>
        `${slice.slice?.label ?? slice.id} ${slice.status}${slice.reason ? `: ${slice.reason}` : ''}`,
    )
    .join('; ');
  return {
    status: status as JobOutcome['status'],
    reason: `${undone.length} of ${slices.length} slice(s) did not succeed: ${listed}`.slice(0, 2000),
  };
}
