import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSealer } from '../../../src/queue/sealer.ts';
import { loadMasterKey } from '../../../src/secrets/load-master-key.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { recordTestSecret } from '../../support/test-evidence.ts';
import {
  api,
  fixtureSleeps,
  outpostCli,
  readSse,
  startOutpost,
  waitForEnd,
  type OutpostProcess,
} from '../http/start-outpost.ts';

// An API node that watches, and worker nodes that are stopped the way systemd or an operator stops them.
let redis: TestRedis;
let varDir: string;
let apiNode: OutpostProcess;
let admin: Redis;
const workers: OutpostProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-grace-'));
  apiNode = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api'], name: 'api' });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

afterAll(async () => {
  admin?.disconnect();
  await apiNode?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

async function startWorker(name: string, graceSeconds: number, concurrency = 1): Promise<OutpostProcess> {
  const worker = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['worker'],
    name,
    env: {
      OUTPOST_WORKER_CONCURRENCY: String(concurrency),
      OUTPOST_SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
    },
  });
  workers.push(worker);
  return worker;
}

async function submit(sleepSeconds: number, extra: Record<string, unknown> = {}): Promise<string> {
  const { status, body } = await api(apiNode.url, 'POST', '/v1/jobs', {
    kind: 'run-playbook',
    hosts: ['localhost'],
    playbook: 'test/fixtures/playbooks/slow.yml',
    ...extra,
    options: { extraVars: { sleep_seconds: sleepSeconds }, ...(extra.options as object) },
  });
  expect(status, JSON.stringify(body)).toBe(202);
  return String(body.id);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The statuses a job's log went through, in order. */
async function statusTrail(id: string): Promise<string[]> {
  return (await readSse(apiNode.url, id))
    .filter((entry) => entry.type === 'status')
    .map((entry) => (JSON.parse(entry.data) as { status: string }).status);
}

describe('a worker stopped with SIGTERM', () => {
  it('takes no new job, lets the running one finish within the grace period, then exits 0', async () => {
    const worker = await startWorker('patient', 120);
    const running = await submit(4.25);
    await until('the job sleeps', async () => (await fixtureSleeps(4.25)).length > 0);
    const waiting = await submit(0);
    const exited = once(worker.child, 'exit') as Promise<[number | null]>;

    worker.child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    const finished = await waitForEnd(apiNode.url, running, 5_000);
    expect(finished.status, String(finished.reason)).toBe('successful');
    expect(await statusTrail(running)).toEqual(['queued', 'running', 'successful']);
    // The job submitted during the shutdown was left on the queue for another worker.
    expect((await api(apiNode.url, 'GET', `/v1/jobs/${waiting}`)).body.status).toBe('queued');
    expect(await readFile(worker.logFile, 'utf8')).toContain('waiting for running jobs to finish');

    await startWorker('next', 5);
    expect((await waitForEnd(apiNode.url, waiting)).status).toBe('successful');
  });

  it('on a second SIGTERM re-queues jobs safe to re-run, with their credentials (the next worker finishes them), and fails a user playbook not marked so, saying why', async () => {
    const password = 'grace-test-password-4711';
    await recordTestSecret(password);
    const worker = await startWorker('impatient', 600, 3);
    const id = await submit(12.25, {
      options: { safeToRerun: true },
      credentials: { user: 'nobody', password },
    });
    const unsafe = await submit(12.5);
    // The operator's way: `outpost job submit --safe-to-rerun`.
    const submitted = await outpostCli(apiNode.url, [
      ...['job', 'submit', 'run-playbook', '--hosts', 'localhost'],
      ...['--playbook', 'test/fixtures/playbooks/slow.yml', '--extra-vars', '{"sleep_seconds":12.75}'],
      ...['--safe-to-rerun', '--json'],
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const byCli = String((JSON.parse(submitted.stdout) as { id: string }).id);
    await until('the three jobs sleep', async () => {
      const counts = await Promise.all(
        [12.25, 12.5, 12.75].map(async (s) => (await fixtureSleeps(s)).length),
      );
      return counts.every((count) => count === 1);
    });
    const exited = once(worker.child, 'exit') as Promise<[number | null]>;
    worker.child.kill('SIGTERM');
    await until('the worker waits for the job', async () =>
      (await readFile(worker.logFile, 'utf8')).includes('waiting for running jobs to finish'),
    );
    worker.child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);

    // Back on the queue, not failed: run facts cleared, the play stopped, the credentials sealed again.
    const { body: queued } = await api(apiNode.url, 'GET', `/v1/jobs/${id}`);
    expect(queued).toMatchObject({ status: 'queued', requeues: 1 });
    expect(queued.startedAt).toBeUndefined();
    expect(queued.worker).toBeUndefined();
    expect(await fixtureSleeps(12.25)).toEqual([]);
    // A run-playbook job may not be safe to run twice: it is stopped and failed, with the way to re-queue it.
    const { body: failed } = await api(apiNode.url, 'GET', `/v1/jobs/${unsafe}`);
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(
      /shut down while the job was running; not re-queued: a run-playbook job is re-queued only with options\.safeToRerun$/,
    );
    expect(await fixtureSleeps(12.5)).toEqual([]);
    expect(await statusTrail(unsafe)).toEqual(['queued', 'running', 'failed']);
    expect((await api(apiNode.url, 'GET', `/v1/jobs/${byCli}`)).body).toMatchObject({
      status: 'queued',
      requeues: 1,
    });
    expect(await fixtureSleeps(12.75)).toEqual([]);
    const sealed = await admin.get(`outpost:job-secret:${id}`);
    expect(sealed).not.toBeNull();
    expect(sealed).not.toContain(password);
    const sealer = createSealer(await loadMasterKey({ varDir }));
    expect(JSON.parse(sealer.unseal(id, sealed ?? '').toString('utf8'))).toEqual({
      user: 'nobody',
      password,
    });

    await startWorker('heir', 5, 2);
    expect((await waitForEnd(apiNode.url, byCli, 90_000)).status).toBe('successful');
    const job = await waitForEnd(apiNode.url, id, 90_000);
    expect(job.status, String(job.reason)).toBe('successful');
    expect(job.requeues).toBe(1);
    expect(await statusTrail(id)).toEqual(['queued', 'running', 'queued', 'running', 'successful']);
    const log = await readSse(apiNode.url, id);
    expect(log.filter((entry) => entry.type === 'end')).toHaveLength(1);
    expect(log.find((entry) => entry.type === 'status' && entry.data.includes('re-queued'))?.data).toMatch(
      /shut down while the job was running; re-queued \(its play is safe to re-run\)/,
    );
    // The credentials were used once more, then never kept.
    expect(await admin.exists(`outpost:job-secret:${id}`)).toBe(0);
  });
});
