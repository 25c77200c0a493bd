import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { startProcess, waitUntil, type ServiceProcess } from '../../support/service-process.ts';
import { api, startOutpost, waitForEnd, type OutpostProcess } from '../http/start-outpost.ts';

// A redis-server in cluster mode owning every slot: it refuses, as any cluster node does, a transaction or a
// script whose keys are in different hash slots (CROSSSLOT). Outpost's keys and BullMQ's must share one slot.
let dir: string;
let server: ServiceProcess;
let port: number;
let admin: Redis;
let outpost: OutpostProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-cluster-'));
  port = await freePort();
  server = startProcess(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'].concat([
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
    ]),
    path.join(dir, 'redis.log'),
  );
  admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  await waitUntil('cluster-mode redis-server', async () => (await admin.ping()) === 'PONG', server.child);
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await waitUntil(
    'the cluster state ok',
    async () => /cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO'))),
    server.child,
  );
});

afterAll(async () => {
  await outpost?.stop();
  admin?.disconnect();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Outpost on a Redis Cluster node', () => {
  it('works end to end with a hash-tagged prefix: registry, queue, worker and log', async () => {
    const varDir = path.join(dir, 'tagged');
    outpost = await startOutpost({
      redisUrl: `redis://127.0.0.1:${port}`,
      varDir,
      roles: ['api', 'worker'],
      name: 'tagged',
      env: { OUTPOST_REDIS_PREFIX: '{outpost}:' },
    });
    const post = async (url: string, body: unknown, status: number) => {
      const response = await api(outpost?.url ?? '', 'POST', url, body);
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      return response.body;
    };
    await post('/v1/projects', { id: 'acme' }, 201);
    await post('/v1/hosts', { id: 'vm1', project: 'acme', address: '192.0.2.10', network: 'lan' }, 201);
    const hosts = await api<{ id: string }[]>(outpost.url, 'GET', '/v1/hosts?project=acme');
    expect(hosts.body.map((h) => h.id)).toEqual(['vm1']);
    const job = await post(
      '/v1/jobs',
      {
        kind: 'run-playbook',
        hosts: ['localhost'],
        playbook: 'test/fixtures/playbooks/trickle.yml',
        options: { extraVars: { trickle_lines: 3, trickle_pause: 0 } },
      },
      202,
    );
    const ended = await waitForEnd(outpost.url, String(job.id), 120_000);
    expect(ended.status, JSON.stringify(ended)).toBe('successful');
    const log = await api<string>(outpost.url, 'GET', `/v1/jobs/${String(job.id)}/log`);
    expect(String(log.body)).toContain('trickle 2');
    const keys = (await admin.call('KEYS', '*')) as string[];
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((key) => !key.startsWith('{outpost}:'))).toEqual([]);
    expect(keys.some((key) => key.startsWith('{outpost}:bull:'))).toBe(true);
    await outpost.stop();
    outpost = undefined;
  }, 180_000);

  it('refuses to start with a prefix without a hash tag, naming the setting and the fix', async () => {
    const varDir = path.join(dir, 'plain');
    await expect(
      startOutpost({
        redisUrl: `redis://127.0.0.1:${port}`,
        varDir,
        roles: ['api', 'worker'],
        name: 'plain',
        env: { OUTPOST_REDIS_PREFIX: 'outpost:' },
      }),
    ).rejects.toThrow(/exited early/);
    expect(await readFile(path.join(varDir, 'plain.log'), 'utf8')).toMatch(
      /OUTPOST_REDIS_PREFIX: Redis runs in cluster mode: the prefix must start with a hash tag, e.g. \\"\{outpost\}:\\", .*got \\"outpost:\\"/,
    );
  }, 60_000);
});
