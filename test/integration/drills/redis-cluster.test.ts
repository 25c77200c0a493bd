import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type TestRedisCluster } from '../../support/redis-cluster.ts';
import {
  api,
  readSse,
  startOutpost,
  submitJob,
  waitForEnd,
  type OutpostProcess,
} from '../http/start-outpost.ts';

// Outpost on a real Redis Cluster (Debian's redis-server in cluster mode: three masters, three replicas on
// loopback). The node Outpost is given first does not hold the prefix's slot, so every command it sends
// there is answered MOVED: a plain connection fails, a cluster client follows the redirect.
const PREFIX = '{outpost}:';
let cluster: TestRedisCluster;
let varDir: string;
let outpost: OutpostProcess;
let owner: number;
let slot: number;

beforeAll(async () => {
  cluster = await startRedisCluster();
  const anyNode = cluster.client(cluster.masters[0] ?? 0);
  slot = Number(await anyNode.cluster('KEYSLOT', PREFIX));
  const slots = await anyNode.cluster('SLOTS');
  owner = slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1] ?? 0;
  const others = cluster.nodes.split(',').filter((node) => node !== `127.0.0.1:${owner}`);
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-drill-cluster-'));
  outpost = await startOutpost({
    redisUrl: '',
    varDir,
    roles: ['api', 'worker'],
    name: 'node',
    env: { OUTPOST_REDIS_CLUSTER_NODES: others.join(','), OUTPOST_REDIS_PREFIX: PREFIX },
  });
}, 180_000);

afterAll(async () => {
  await outpost?.stop();
  await cluster?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

describe('Redis Cluster', () => {
  it('runs a job, streams its log to the end and keeps the registry, every key in one slot of one master', async () => {
    expect(cluster.masters).toHaveLength(3);
    const id = await submitJob(outpost.url, {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/trickle.yml',
      options: { extraVars: { trickle_lines: 5, trickle_pause: 0.1 } },
    });
    const entries = await readSse(outpost.url, id);
    expect(entries.map((entry) => entry.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.filter((entry) => /"trickle \d"/.test(entry.data))).toHaveLength(5);
    expect(entries.at(-1)?.type).toBe('end');
    expect((await waitForEnd(outpost.url, id, 60_000)).status).toBe('successful');

    expect((await api(outpost.url, 'POST', '/v1/projects', { id: 'acme' })).status).toBe(201);
    const host = await api(outpost.url, 'POST', '/v1/hosts', {
      id: 'vm1',
      project: 'acme',
      address: '198.51.100.5',
    });
    expect(host.status, JSON.stringify(host.body)).toBe(201);
    const listed = await api<{ id: string }[]>(outpost.url, 'GET', '/v1/hosts?project=acme');
    expect(listed.body.map((h) => h.id)).toEqual(['vm1']);

    // Every key Outpost and BullMQ wrote is on the master of the prefix's slot, in that slot.
    const sizes = await Promise.all(cluster.masters.map((port) => cluster.client(port).dbsize()));
    expect(Object.fromEntries(cluster.masters.map((port, i) => [port, sizes[i]]))).toEqual(
      Object.fromEntries(cluster.masters.map((port, i) => [port, port === owner ? sizes[i] : 0])),
    );
    const keys = await cluster.client(owner).keys('*');
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((key) => !key.startsWith(PREFIX))).toEqual([]);
    expect(Number(await cluster.client(owner).cluster('COUNTKEYSINSLOT', slot))).toBe(keys.length);
    expect(keys).toContain(`${PREFIX}log:${id}`);
    expect(keys.some((key) => key.startsWith(`${PREFIX}bull:`))).toBe(true);
  }, 180_000);

  it('cancels a running job: the cancel reaches the worker through pub/sub on the cluster', async () => {
    const id = await submitJob(outpost.url, {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/trickle.yml',
      options: { extraVars: { trickle_lines: 200, trickle_pause: 0.25 } },
    });
    await readSse(outpost.url, id, { stopAfter: 4 });
    expect((await api(outpost.url, 'POST', `/v1/jobs/${id}/cancel`)).status).toBe(202);
    const job = await waitForEnd(outpost.url, id, 60_000);
    expect(job.status).toBe('canceled');
  }, 120_000);
});
