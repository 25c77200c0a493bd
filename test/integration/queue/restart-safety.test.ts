import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import {
  api,
  fixtureSleeps,
  processesMentioning,
  readSse,
  startOutpost,
  waitForStatus,
  type OutpostProcess,
} from '../http/start-outpost.ts';

const ENDED = ['failed', 'successful', 'canceled', 'timeout'];

let redis: TestRedis;
let varDir: string;
let apiNode: OutpostProcess;
const workers: OutpostProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-queue-'));
  apiNode = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api'], name: 'api' });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

afterAll(async () => {
  await apiNode?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

async function startWorker(name: string, env: Record<string, string> = {}): Promise<OutpostProcess> {
  const worker = await startOutpost({ redisUrl: redis.url, varDir, roles: ['worker'], name, env });
  workers.push(worker);
  return worker;
}

async function submit(sleepSeconds: number): Promise<string> {
  const { status, body } = await api(apiNode.url, 'POST', '/v1/jobs', {
    kind: 'run-playbook',
    hosts: ['localhost'],
    playbook: 'test/fixtures/playbooks/slow.yml',
    options: { extraVars: { sleep_seconds: sleepSeconds } },
  });
  expect(status).toBe(202);
  return String(body.id);
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('restart safety and scale-out', () => {
  it('fails a job whose worker was killed -9, with the reason, keeps its log, and kills its run at once', async () => {
    // Heartbeats that outlive the test's wait: the heir knows the dead worker by its process, not by a silence.
    const slowBeat = { OUTPOST_WORKER_HEARTBEAT_MS: '120000' };
    const doomed = await startWorker('doomed', slowBeat);
    const id = await submit(45);
    await until(async () => (await fixtureSleeps(45)).length > 0);
    await doomed.crash();
    // Nothing else stops the play until a worker on this machine starts.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await fixtureSleeps(45)).length).toBeGreaterThan(0);

    await startWorker('heir', slowBeat);
    const job = await waitForStatus(apiNode.url, id, ENDED, 30_000);
    expect(job.status).toBe('failed');
    expect(String(job.reason)).toMatch(/^worker w-[a-z0-9-]+ on .+ stopped while the job was running$/);
    await until(async () => (await fixtureSleeps(45)).length === 0, 10_000);
    expect(await processesMentioning(path.join(varDir, 'runs', id))).toEqual([]);

    const entries = await readSse(apiNode.url, id);
    expect(entries.some((e) => e.type === 'stdout' && e.data.includes('"msg": "sleeping 45 s"'))).toBe(true);
    expect(entries.at(-1)?.type).toBe('end');
    expect(JSON.parse(entries.at(-1)?.data ?? '{}')).toMatchObject({ status: 'failed' });
  });

  it('takes a worker starved past its heartbeat for late, not dead, until ten lifetimes of silence', async () => {
    // Both workers beat every 0.5 s (lifetime 1.5 s); a stopped process is what a starved one looks like.
    const starved = await startWorker('starved');
    const pause = async (seconds: number): Promise<void> => {
      process.kill(starved.child.pid as number, 'SIGSTOP');
      try {
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      } finally {
        process.kill(starved.child.pid as number, 'SIGCONT');
      }
    };
    const late = await submit(13);
    await until(async () => (await fixtureSleeps(13)).length > 0);
    const watcher = await startWorker('watcher');
    await pause(6); // four lifetimes: the watcher sweeps a dozen times meanwhile
    const job = await waitForStatus(apiNode.url, late, ENDED, 30_000);
    expect(job.status).toBe('successful');
    expect(await readFile(watcher.logFile, 'utf8')).toContain(
      'worker heartbeat late, its process still runs on this machine: not taken for dead',
    );

    await watcher.stop();
    const wedged = await submit(46);
    await until(async () => (await fixtureSleeps(46)).length > 0);
    await startWorker('heir');
    await pause(20); // over ten lifetimes (15 s): wedged, so dead, and its run is stopped
    const dead = await waitForStatus(apiNode.url, wedged, ENDED, 30_000);
    expect(dead.status).toBe('failed');
    expect(String(dead.reason)).toMatch(/^worker w-[a-z0-9-]+ on .+ stopped while the job was running$/);
    await until(async () => (await fixtureSleeps(46)).length === 0, 10_000);
  });

  it('loses no queued job when Redis restarts, and a canceled queued job never runs', async () => {
    const kept = await submit(1);
    const dropped = await submit(1);
    const cancel = await api(apiNode.url, 'POST', `/v1/jobs/${dropped}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.body.status).toBe('canceled');

    await redis.restart();
    await until(async () => (await fetch(`${apiNode.url}/healthz`)).status === 200);
    await startWorker('after-restart');

    const job = await waitForStatus(apiNode.url, kept, ['successful', 'failed'], 60_000);
    expect(job.status).toBe('successful');
    const { body: canceled } = await api(apiNode.url, 'GET', `/v1/jobs/${dropped}`);
    expect(canceled.status).toBe('canceled');
    expect(canceled.startedAt).toBeUndefined();
  });

  it('shares jobs between two workers, and any node tails the log of a job run elsewhere', async () => {
    const one = await startWorker('one', { OUTPOST_WORKER_CONCURRENCY: '1' });
    const two = await startWorker('two', { OUTPOST_WORKER_CONCURRENCY: '1' });
    const ids = await Promise.all([2, 2, 2, 2].map((s) => submit(s)));
    const streams = await Promise.all(ids.map((id) => readSse(apiNode.url, id)));
    const jobs = await Promise.all(ids.map((id) => waitForStatus(apiNode.url, id, ['successful', 'failed'])));
    expect(jobs.map((job) => job.status)).toEqual(['successful', 'successful', 'successful', 'successful']);
    expect(new Set(jobs.map((job) => job.worker)).size).toBe(2);
    for (const entries of streams) {
      expect(entries.some((e) => e.type === 'stdout' && e.data.includes('"msg": "sleeping 2 s"'))).toBe(true);
      expect(entries.at(-1)?.type).toBe('end');
    }
    void one;
    void two;
  });
});
