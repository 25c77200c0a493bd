import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import {
  isAnsibleProcess,
  killProcessGroup,
  killProcessesMentioning,
} from '../ansible/kill-process-group.ts';
import { scrubRunDir } from '../jobs/runtime/scrub-run-dir.ts';
import type { LogStore } from '../logs/log-store.ts';
import type { JobStore } from './job-store.ts';
import { queueKeys } from './queue-keys.ts';

/** What recovery needs. */
export interface RecoverOptions {
  redis: Redis;
  store: JobStore;
  logs: LogStore;
  prefix?: string;
  /** Directory of run dirs, to kill daemonized ssh masters of a dead run. */
  runsDir?: string;
  /** Workers of this process: their jobs are alive even if a heartbeat is late. */
  liveWorkers?: ReadonlySet<string>;
}

/**
 * Marks `failed` every running job whose worker no longer sends heartbeats, with the reason; when it ran
 * on this machine, kills its ansible-playbook process group and removes the secrets its run dir still
 * holds. Returns the ids it ended.
 */
export async function recoverJobs(options: RecoverOptions): Promise<string[]> {
  const keys = queueKeys(options.prefix ?? 'outpost:');
  const recovered: string[] = [];
  for (const id of await options.store.idsWithStatus('running')) {
    const job = await options.store.find(id);
    if (!job?.worker || options.liveWorkers?.has(job.worker)) continue;
    if ((await options.redis.exists(keys.worker(job.worker))) === 1) continue;
    const reason = `worker ${job.worker} on ${job.node ?? 'an unknown node'} stopped while the job was running`;
    const ended = await options.store.transition(id, ['running'], {
      status: 'failed',
      reason,
      endedAt: new Date().toISOString(),
    });
    if (!ended) continue;
    if (job.node === hostname() && job.pgid && (await isOwnGroup(job.pgid)))
      await killProcessGroup(job.pgid, 2000);
    if (job.node === hostname() && options.runsDir) {
      await killProcessesMentioning(path.join(options.runsDir, id));
      // The run never reached its own cleanup: its credentials and keys must not stay on disk.
      await scrubRunDir(path.join(options.runsDir, id));
    }
    await options.redis.del(keys.secret(id));
    await options.logs.append(id, 'status', JSON.stringify({ status: 'failed', reason }));
    await options.logs.append(id, 'end', JSON.stringify({ status: 'failed', reason }));
    recovered.push(id);
  }
  return recovered;
}

/**
 * Whether the group `pgid` is still the run's: its leader is ansible-playbook, or the leader is gone
 * (Linux never hands out a pid still used as a process group id, so the survivors are the run's).
 */
async function isOwnGroup(pgid: number): Promise<boolean> {
  const leaderAlive = await access(`/proc/${pgid}`).then(
    () => true,
    () => false,
  );
  return !leaderAlive || isAnsibleProcess(pgid);
}
