import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryPaths } from '../../../src/inventory/inventory-paths.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { recordTestSecret } from '../../support/test-evidence.ts';
import {
  api,
  fixtureSleeps,
  processesMentioning,
  readSse,
  startOutpost,
  waitForEnd,
  type OutpostProcess,
} from '../http/start-outpost.ts';
import { descendants, serviceHandles } from './service-handles.ts';

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;
let admin: Redis;
let hanging: { port: number; close(): Promise<void> } | undefined;
const ROOT = path.resolve(import.meta.dirname, '../../..');

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-drill-queue-'));
  // One job at a time, so jobs submitted behind a running one really wait in the queue.
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker'],
    name: 'node',
    env: { OUTPOST_WORKER_CONCURRENCY: '1' },
  });
});

afterAll(async () => {
  admin?.disconnect();
  await hanging?.close();
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

async function submit(base: string, sleepSeconds: number): Promise<string> {
  const { status, body } = await api(base, 'POST', '/v1/jobs', {
    kind: 'run-playbook',
    hosts: ['localhost'],
    playbook: 'test/fixtures/playbooks/slow.yml',
    options: { extraVars: { sleep_seconds: sleepSeconds } },
  });
  expect(status).toBe(202);
  return String(body.id);
}

/** The log entries a job has so far, without following. */
async function entriesSoFar(id: string): Promise<{ seq: number; type: string; data: string }[]> {
  const { body } = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/events?follow=false`, undefined, {
    accept: 'application/x-ndjson',
  });
  return String(body)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { seq: number; type: string; data: string });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Clients connected to the test Redis, by name of the connecting process (ioredis sets none: by address). */
async function redisClients(): Promise<number> {
  admin ??= new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const list = String(await admin.client('LIST'));
  return list.split('\n').filter((line) => line.includes('addr=')).length - 1;
}

describe('drill: Redis restarts with one job running and several queued', () => {
  it('finishes the running job, runs every queued one, keeps every acknowledged log entry, leaks nothing', async () => {
    const warm = await submit(outpost.url, 0);
    await waitForEnd(outpost.url, warm);
    const pid = outpost.child.pid as number;
    const before = await serviceHandles(pid);

    const running = await submit(outpost.url, 6);
    await until('the first job sleeps', async () => (await fixtureSleeps(6)).length > 0);
    const queued = [await submit(outpost.url, 1), await submit(outpost.url, 1), await submit(outpost.url, 1)];
    for (const id of queued)
      expect((await api(outpost.url, 'GET', `/v1/jobs/${id}`)).body.status).toBe('queued');
    let acknowledged: { seq: number; type: string; data: string }[] = [];
    await until('the first job logs its sleep', async () => {
      acknowledged = await entriesSoFar(running);
      return acknowledged.some((e) => e.data.includes('sleeping 6 s'));
    });

    await redis.restart();
    await until(
      '/healthz answers 200 again',
      async () => (await fetch(`${outpost.url}/healthz`)).status === 200,
    );

    const first = await waitForEnd(outpost.url, running, 60_000);
    expect(first.status, String(first.reason)).toBe('successful');
    for (const id of queued) {
      const job = await waitForEnd(outpost.url, id, 60_000);
      expect(job.status, `${id}: ${String(job.reason)}`).toBe('successful');
      const entries = await readSse(outpost.url, id);
      expect(entries.at(-1)?.type).toBe('end');
    }
    // The entries acknowledged before the restart are still there, unchanged, and the log ends.
    const after = await readSse(outpost.url, running);
    expect(after.slice(0, acknowledged.length)).toEqual(acknowledged);
    expect(after.at(-1)?.type).toBe('end');
    expect(JSON.parse(after.at(-1)?.data ?? '{}')).toMatchObject({ status: 'successful' });

    // No process, socket or listener left over: the service holds what it held before.
    expect(await descendants(pid)).toEqual(before.children);
    const handles = await serviceHandles(pid);
    expect(handles.listeners).toEqual(before.listeners);
    expect(handles.files.filter((f) => f.includes('/runs/'))).toEqual([]);
    await until('sockets settle', async () => (await serviceHandles(pid)).sockets <= before.sockets, 10_000);
  });
});

/**
 * A VM whose sshd sends its banner and then hangs (a fault, not a stand-in for sshd): an enrollment
 * against it stays mid-run, with its password and keys in the run dir, for as long as the drill needs.
 */
async function startHangingSshd(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.write('SSH-2.0-OpenSSH_9.2p1 hangs-after-banner\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('drill: kill -9 of a worker node mid-job', () => {
  it("fails the job with the reason, removes the run's secrets, and leaves no process, Redis connection or listener of the dead node", async () => {
    const clientsBefore = await redisClients();
    const apiHandles = await serviceHandles(outpost.child.pid as number);
    // The first node would take the job too: keep it busy first, so the doomed node takes it.
    const busy = await submit(outpost.url, 20);
    await until('the first node is busy', async () => (await fixtureSleeps(20)).length > 0);
    const doomed = await startOutpost({
      redisUrl: redis.url,
      varDir,
      roles: ['worker'],
      name: 'doomed',
      env: { OUTPOST_WORKER_CONCURRENCY: '1' },
    });
    hanging = await startHangingSshd();
    expect((await api(outpost.url, 'POST', '/v1/projects', { id: 'drill' })).status).toBe(201);
    const host = { id: 'hangs', project: 'drill', address: '127.0.0.1', sshPort: hanging.port };
    expect((await api(outpost.url, 'POST', '/v1/hosts', host)).status).toBe(201);
    const password = `drill-${randomBytes(12).toString('base64url')}`;
    await recordTestSecret(password);
    const submitted = await api(outpost.url, 'POST', '/v1/jobs', {
      kind: 'enroll',
      hosts: ['hangs'],
      credentials: { user: 'debian', password },
    });
    expect(submitted.status).toBe(202);
    const id = String(submitted.body.id);
    const runDir = path.join(varDir, 'runs', id);
    const secretVars = path.join(runDir, 'secret-vars.json');
    const keysDir = path.join(runDir, 'keys');
    const controlDir = inventoryPaths(runDir).controlDir;
    await until(
      'the doomed worker runs the enrollment, its password and key on disk',
      async () =>
        (await processesMentioning(runDir)).length > 0 &&
        (await exists(secretVars)) &&
        (await exists(path.join(keysDir, 'project'))),
    );
    expect(controlDir.startsWith(os.tmpdir())).toBe(true); // a long run dir: sockets under the temp dir
    expect(await exists(controlDir)).toBe(true);
    const doomedPid = doomed.child.pid as number;
    const runPids = await descendants(doomedPid);
    expect(runPids.length).toBeGreaterThan(0);

    await doomed.crash();
    const job = await waitForEnd(outpost.url, id, 30_000);
    expect(job.status).toBe('failed');
    expect(String(job.reason)).toMatch(/^worker w-[a-z0-9-]+ on .+ stopped while the job was running$/);
    await until('the run is gone', async () => (await processesMentioning(runDir)).length === 0, 10_000);
    expect(await stillRunning(runPids)).toEqual([]);
    // The log ends once recovery is done with the run: then it has removed what held secrets, and the
    // control-socket dir; the record of the run stays.
    const end = (await readSse(outpost.url, id)).at(-1);
    expect(end?.type).toBe('end');
    expect(await exists(secretVars)).toBe(false);
    expect(await exists(keysDir)).toBe(false);
    expect(await exists(controlDir)).toBe(false);
    expect(JSON.parse(await readFile(path.join(runDir, 'command.json'), 'utf8'))).toContain(
      path.join(ROOT, 'playbooks/enroll.yml'),
    );

    await api(outpost.url, 'POST', `/v1/jobs/${busy}/cancel`);
    await waitForEnd(outpost.url, busy);
    // The dead node's Redis connections are closed by the kernel: the server counts as many clients as before.
    await until(
      'Redis drops the dead connections',
      async () => (await redisClients()) <= clientsBefore,
      10_000,
    );
    const after = await serviceHandles(outpost.child.pid as number);
    expect(after.listeners).toEqual(apiHandles.listeners);
  });
});

/** A process that still runs (a zombie waiting for its reaper does not count), with its command line. */
async function stillRunning(pids: number[]): Promise<string[]> {
  const alive: string[] = [];
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    alive.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
  }
  return alive;
}
