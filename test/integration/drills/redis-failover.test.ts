import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readStoredLog,
  startSentinelRedis,
  SENTINEL_MASTER,
  type TestSentinelRedis,
} from '../../support/redis-sentinel.ts';
import { api, startOutpost, submitJob, waitForEnd, type OutpostProcess } from '../http/start-outpost.ts';

// Outpost on Redis Sentinel (Debian's redis-sentinel: three sentinels, a master and a replica on loopback):
// the master is killed with -9 while a job writes its log and two more wait in the queue.
let redis: TestSentinelRedis;
let varDir: string;
let outpost: OutpostProcess;
let reader: Redis;

beforeAll(async () => {
  redis = await startSentinelRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-drill-failover-'));
  reader = redis.master();
  outpost = await startOutpost({
    redisUrl: '',
    varDir,
    roles: ['api', 'worker'],
    name: 'node',
    env: {
      OUTPOST_REDIS_SENTINELS: redis.sentinels,
      OUTPOST_REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
      // One job at a time, so jobs submitted behind the first really wait in the queue.
      OUTPOST_WORKER_CONCURRENCY: '1',
    },
  });
}, 120_000);

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

function submit(lines: number): Promise<string> {
  return submitJob(outpost.url, {
    kind: 'run-playbook',
    hosts: ['localhost'],
    playbook: 'test/fixtures/playbooks/trickle.yml',
    options: { extraVars: { trickle_lines: lines, trickle_pause: 0.25 } },
  });
}

describe('Redis Sentinel failover', () => {
  it('the master dies mid-job: the running job and the queued ones finish, no log entry is lost', async () => {
    const first = await submit(48);
    const queued = [await submit(4), await submit(4)];
    // What the master had acknowledged before it died, as a reader saw it.
    let seen = new Map<number, string>();
    for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 100))) {
      seen = await readStoredLog(reader, first);
      if ([...seen.values()].filter((entry) => entry.includes('trickle ')).length >= 12) break;
      if (Date.now() > deadline) throw new Error(`job ${first} wrote no trickle lines within 60 s`);
    }
    const killedAt = Date.now();
    const oldPort = await redis.killMaster();
    // A job submitted while no master answers: the API waits for the new one rather than refusing.
    const during = api(outpost.url, 'POST', '/v1/jobs', {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/trickle.yml',
      options: { extraVars: { trickle_lines: 2, trickle_pause: 0.25 } },
    });
    const newPort = await redis.waitForFailover(oldPort, 60_000);
    const failoverMs = Date.now() - killedAt;
    const submitted = await during;
    const submitMs = Date.now() - killedAt;
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    expect(newPort).not.toBe(oldPort);

    const ids = [first, ...queued, String(submitted.body.id)];
    const ended = await Promise.all(ids.map((id) => waitForEnd(outpost.url, id, 180_000)));
    for (const job of ended) expect(job.status, JSON.stringify(job)).toBe('successful');

    const after = await readStoredLog(reader, first);
    const lost = [...seen].filter(([seq, entry]) => after.get(seq) !== entry);
    expect(lost).toEqual([]);
    const seqs = [...after.keys()];
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const lines = [...after.values()].filter((entry) => /"trickle \d+"/.test(entry));
    const numbers = lines.map((entry) => Number(/"trickle (\d+)"/.exec(entry)?.[1]));
    expect(new Set(numbers).size, 'each trickle line once').toBe(48);
    const duplicates = numbers.length - new Set(numbers).size;
    const { body: queue } = await api<{ status: string }[]>(outpost.url, 'GET', '/v1/jobs');
    expect(queue.filter((job) => job.status === 'queued' || job.status === 'running')).toEqual([]);
    console.log(
      `failover drill: sentinels named the replica ${failoverMs} ms after kill -9 of the master; a submit during it answered after ${submitMs} ms; ` +
        `${seen.size} log entries acknowledged before the kill, ${lost.length} lost; ${after.size} in the end, ${duplicates} trickle lines twice`,
    );
  }, 300_000);
});
