import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RedisClient } from '../redis-client.ts';
import {
  isAnsibleProcess,
  killProcessGroup,
  killProcessesMentioning,
} from '../ansible/kill-process-group.ts';
import { scrubRunDir } from '../jobs/runtime/scrub-run-dir.ts';
import type { LogStore } from '../logs/log-store.ts';
import { isOfThisBoot, isRunning, parseProcessIdentity, type ProcessIdentity } from '../process-identity.ts';
import type { JobStore } from './job-store.ts';
import type { JobSlices } from './job-slices.ts';
import { queueKeys } from './queue-keys.ts';

/** What recovery needs. */
export interface RecoverOptions {
  redis: RedisClient;
  store: JobStore;
  logs: LogStore;
  prefix?: string;
  /** Directory of run dirs, to kill daemonized ssh masters of a dead run. */
  runsDir?: string;
  /** Workers of this process: their jobs are alive even if a heartbeat is late. */
  liveWorkers?: ReadonlySet<string>;
  /** Runs a slice of a dead worker once more instead of failing it. */
  slices?: JobSlices;
  /** Told of a worker that is late but alive. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * How many heartbeat lifetimes a worker whose process still runs on this machine may stay silent before it
 * counts as dead: a machine under load can starve a process of its timers for a while (20 s at load 95 on
 * 2 cores), and failing the jobs of a worker that then goes on running them loses their work; a process
 * silent this long is wedged.
 */
export const LATE_LIFETIMES = 10;

/**
 * Marks `failed` every running job whose worker is dead (no heartbeat, or its process on this machine is
 * gone; one whose process still runs here is late, not dead, for `LATE_LIFETIMES` lifetimes), with the
 * reason; when it ran on this machine, kills its ansible-playbook process group and removes the secrets its
 * run dir still holds. Returns the ids it ended.
 */
export async function recoverJobs(options: RecoverOptions): Promise<string[]> {
  const keys = queueKeys(options.prefix ?? 'outpost:');
  const recovered: string[] = [];
  const late = new Set<string>();
  for (const id of await options.store.idsWithStatus('running')) {
    const job = await options.store.find(id);
    if (job && !job.worker) await options.slices?.rescue(job);
    if (!job?.worker || options.liveWorkers?.has(job.worker)) continue;
    const heartbeat = await options.redis.get(keys.worker(job.worker));
    if (heartbeat !== null && !(await isDeadHere(heartbeat))) continue;
    if (heartbeat === null && (await isLateHere(await options.redis.get(keys.workerSeen(job.worker))))) {
      if (!late.has(job.worker))
        options.logger?.warn(
          { job: id, worker: job.worker },
          'worker heartbeat late, its process still runs on this machine: not taken for dead',
        );
      late.add(job.worker);
      continue;
    }
    const reason = `worker ${job.worker} on ${job.node ?? 'an unknown node'} stopped while the job was running`;
    // What the dead run left on this machine goes first: a slice run again must not meet it.
    const stopLeftovers = async (): Promise<void> => {
      if (job.node === hostname() && job.pgid && (await isOwnGroup(job.pgid, id)))
        await killProcessGroup(job.pgid, 2000);
      if (job.node === hostname() && options.runsDir) {
        await killProcessesMentioning(path.join(options.runsDir, id));
        // The run never reached its own cleanup: its credentials and keys must not stay on disk.
        await scrubRunDir(path.join(options.runsDir, id));
      }
    };
    if (job.parent && options.slices && (job.retries ?? 0) < 1) {
      await stopLeftovers();
      if (await options.slices.retry(job, reason)) {
        recovered.push(id);
        continue;
      }
    }
    const ended = await options.store.transition(id, ['running'], {
      status: 'failed',
      reason,
      endedAt: new Date().toISOString(),
    });
    if (!ended) continue;
    await stopLeftovers();
    await options.redis.del(keys.secret(id));
    await options.logs.append(id, 'status', JSON.stringify({ status: 'failed', reason }));
    await options.logs.append(id, 'end', JSON.stringify({ status: 'failed', reason }));
    await options.slices?.settle(job, { status: 'failed', reason });
    recovered.push(id);
  }
  return recovered;
}

/**
 * Whether a worker whose heartbeat lapsed is alive on this machine (its process of this boot still runs), as
 * `seen` (its identity, kept `LATE_LIFETIMES` lifetimes) says.
 */
async function isLateHere(seen: string | null): Promise<boolean> {
  const worker = seen === null ? undefined : identityOf(seen);
  return worker !== undefined && (await isOfThisBoot(worker)) && (await isRunning(worker));
}

/**
 * Whether a worker whose heartbeat has not expired yet is in fact dead: it ran on this machine in this
 * boot (its heartbeat carries its process identity) and that process is gone, as after a kill -9 of
 * `outpost serve`. Its jobs are then recovered at once instead of a heartbeat lifetime later.
 */
async function isDeadHere(heartbeat: string): Promise<boolean> {
  // An older worker's heartbeat (a bare host name) has no identity: alive until it expires.
  const worker = identityOf(heartbeat);
  return worker !== undefined && (await isOfThisBoot(worker)) && !(await isRunning(worker));
}

/** The process identity a heartbeat carries, if any. */
function identityOf(heartbeat: string): ProcessIdentity | undefined {
  try {
    return parseProcessIdentity((JSON.parse(heartbeat) as { process?: unknown }).process);
  } catch {
    return undefined;
  }
}

/**
 * Whether the group `pgid` is still the run of job `jobId`: its leader is that job's ansible-playbook,
 * or the leader is gone (Linux never hands out a pid still used as a process group id, so the
 * survivors are the run's).
 */
async function isOwnGroup(pgid: number, jobId: string): Promise<boolean> {
  const leaderAlive = await access(`/proc/${pgid}`).then(
    () => true,
    () => false,
  );
  return !leaderAlive || isAnsibleProcess(pgid, jobId);
}
