import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import {
  api,
  processesMentioning,
  readSse,
  startOutpost,
  waitForEnd,
  waitForStatus,
  type OutpostProcess,
} from '../http/start-outpost.ts';
import { serviceHandles } from './service-handles.ts';

const run = promisify(execFile);

let redis: TestRedis;
let varDir: string;
let runsDir: string;
let mounted = false;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-diskfull-'));
  runsDir = path.join(varDir, 'runs');
  await mkdir(runsDir);
  // A 2 MB disk of its own for the run directories, as a small or full volume would be.
  await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'outpost-drill-runs', runsDir]);
  mounted = true;
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'diskfull' });
});

afterAll(async () => {
  await outpost?.stop();
  if (mounted) await run('umount', [runsDir]);
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

async function submit(): Promise<string> {
  const { status, body } = await api(outpost.url, 'POST', '/v1/jobs', {
    kind: 'run-playbook',
    hosts: ['localhost'],
    playbook: 'test/fixtures/playbooks/ping.yml',
  });
  expect(status).toBe(202);
  return String(body.id);
}

/** Fills the runs disk to the last byte. */
async function fillDisk(): Promise<void> {
  await run('sh', ['-c', `dd if=/dev/zero of=${runsDir}/filler bs=64k 2>/dev/null; true`]);
  const { stdout } = await run('df', ['--output=avail', '-B1', runsDir]);
  expect(Number(stdout.trim().split('\n').at(-1))).toBe(0);
}

describe('drill: the run directory disk is full', () => {
  it('fails the job with a message naming the disk, stays healthy, and runs the next job once space is freed', async () => {
    const warm = await submit();
    expect((await waitForStatus(outpost.url, warm, ['successful', 'failed'])).status).toBe('successful');
    const before = await serviceHandles(outpost.child.pid as number);

    await fillDisk();
    const id = await submit();
    const job = await waitForEnd(outpost.url, id);
    expect(job.status).toBe('failed');
    expect(String(job.reason)).toContain('no space left on device');
    expect(String(job.reason)).toContain(path.join(runsDir, id));
    const entries = await readSse(outpost.url, id);
    expect(entries.at(-1)?.type).toBe('end');
    expect(JSON.parse(entries.at(-1)?.data ?? '{}')).toMatchObject({ status: 'failed' });
    expect((await fetch(`${outpost.url}/healthz`)).status).toBe(200);
    expect(await processesMentioning(path.join(runsDir, id))).toEqual([]);

    await rm(path.join(runsDir, 'filler'));
    const next = await submit();
    expect((await waitForStatus(outpost.url, next, ['successful', 'failed'])).status).toBe('successful');
    // Nothing of the failed run holds the disk: no process, no open file, no extra socket.
    expect(await processesMentioning(runsDir)).toEqual([]);
    const after = await serviceHandles(outpost.child.pid as number);
    expect(after.files.filter((f) => f.startsWith(runsDir))).toEqual([]);
    expect(after.listeners).toEqual(before.listeners);
    expect(after.sockets).toBeLessThanOrEqual(before.sockets + 2);
    // A secret file of a run never outlives it, full disk or not.
    for (const dir of await readdir(runsDir))
      expect(await readdir(path.join(runsDir, dir))).not.toContain('secret-vars.json');
  });
});
