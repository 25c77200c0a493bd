import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../src/cli/api-client.ts';
import { inventoryCommand } from '../../../src/cli/inventory-command.ts';
import { Redis } from 'ioredis';
import type { JobRecord } from '../../../src/queue/job-record.ts';
import { JobStore } from '../../../src/queue/job-store.ts';
import { freePort } from '../../support/free-port.ts';
import { startInProcess } from '../../support/in-process-services.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

/** True when something accepts a TCP connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls a job until it reaches `status`. */
async function waitForStatus(client: ApiClient, id: string, status: string): Promise<JobRecord> {
  for (let i = 0; i < 600; i += 1) {
    const job = await client.request<JobRecord>('GET', `/v1/jobs/${id}`);
    if (job.status === status) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} never reached ${status}`);
}

describe('createServices: the whole service started and stopped in-process', () => {
  let redis: TestRedis;
  let tmp: string;
  beforeAll(async () => {
    redis = await startRedis();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
  });
  afterAll(async () => {
    await redis.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs a job, and at stop ends the running one, ends live streams and closes its port', async () => {
    const { services, client, config } = await startInProcess({
      varDir: path.join(tmp, 'var-run'),
      roles: ['api', 'worker'],
      env: {
        OUTPOST_REDIS_URL: redis.url,
        OUTPOST_REDIS_PREFIX: 'svc1:',
        OUTPOST_KILL_GRACE_MS: '1000',
        OUTPOST_SHUTDOWN_GRACE_SECONDS: '0',
      },
    });
    const port = Number(new URL(services.url ?? '').port);
    const ping = await client.request<JobRecord>('POST', '/v1/jobs', {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/ping.yml',
    });
    expect((await waitForStatus(client, ping.id, 'successful')).status).toBe('successful');

    const slow = await client.request<JobRecord>('POST', '/v1/jobs', {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/slow.yml',
    });
    await waitForStatus(client, slow.id, 'running');
    const follower = await client.fetch(`/v1/jobs/${slow.id}/events`);
    const body = follower.text();

    await services.stop();
    // The follower's response ends (it can resume by Last-Event-ID), the job is recorded, the port is free.
    expect(await body).toContain(': outpost log stream');
    expect(await listening(port)).toBe(false);
    const connection = new Redis(redis.url);
    try {
      const recorded = await new JobStore(connection, config.redisPrefix).get(slow.id);
      // No grace period, and a user's playbook is not known to be safe to re-run: it fails, saying how to re-queue it.
      expect(recorded.status).toBe('failed');
      expect(recorded.reason).toMatch(
        /^worker w-\S+ shut down while the job was running; not re-queued: a run-playbook job is re-queued only with options.safeToRerun$/,
      );
    } finally {
      connection.disconnect();
    }
    await services.stop(); // a second stop is harmless
  });

  it('serves a project inventory without ever writing the admin key, and `inventory write` through the API', async () => {
    const rootDir = path.join(tmp, 'root');
    const { services, client } = await startInProcess({
      varDir: path.join(tmp, 'var-inv'),
      roles: ['api'],
      rootDir,
      env: { OUTPOST_REDIS_URL: redis.url, OUTPOST_REDIS_PREFIX: 'svc2:' },
    });
    try {
      await client.request('POST', '/v1/projects', { id: 'shop' });
      await client.request('POST', '/v1/proxies', {
        id: 'vpc1-proxy',
        project: 'shop',
        publicAddress: '203.0.113.10',
        vpcAddress: '198.51.100.2',
        networks: ['198.51.100.0/26'],
      });
      await client.request('POST', '/v1/hosts', { id: 'vm1', project: 'shop', address: '198.51.100.5' });
      // An admin key left by an older version is removed by the next GET.
      const keysDir = path.join(rootDir, 'inventories/shop/keys');
      await mkdir(keysDir, { recursive: true });
      await writeFile(path.join(keysDir, 'admin'), 'stale\n', { mode: 0o600 });

      const yaml = await client.request<string>('GET', '/v1/inventories/shop');
      expect(yaml).toContain('vm1');
      expect(existsSync(path.join(keysDir, 'project'))).toBe(true);
      expect(existsSync(path.join(keysDir, 'admin'))).toBe(false);

      const dir = path.join(tmp, 'mine');
      let printed = '';
      await new Command('outpost')
        .exitOverride()
        .addCommand(inventoryCommand(() => client, { write: (text) => (printed += text) }))
        .parseAsync(['inventory', 'write', 'shop', dir], { from: 'user' });
      expect(printed).toContain(`wrote ${dir}/hosts.yml`);
      const hosts = await readFile(path.join(dir, 'hosts.yml'), 'utf8');
      expect(hosts).toContain(`-F ${dir}/ssh_config`);
      expect(await readFile(path.join(dir, 'ssh_config'), 'utf8')).toContain(
        `IdentityFile ${dir}/keys/project`,
      );
      expect((await stat(path.join(dir, 'keys/project'))).mode & 0o777).toBe(0o600);
      expect((await stat(path.join(dir, 'keys'))).mode & 0o777).toBe(0o700);
      expect(existsSync(path.join(dir, 'keys/admin'))).toBe(false);
      expect(existsSync(path.join(rootDir, 'inventories/shop/ssh_config'))).toBe(true);
    } finally {
      await services.stop();
    }
  });

  it('stops what it had started when the start fails, and says why', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const influxPort = await freePort();
    const varDir = path.join(tmp, 'var-fail');
    try {
      // Embedded redis-server and influxd (no OUTPOST_REDIS_URL, no OUTPOST_INFLUX_URL), then the API fails.
      const started = startInProcess({
        varDir,
        roles: ['api', 'worker', 'tunnels'],
        env: {
          OUTPOST_HTTP_PORT: String(port),
          OUTPOST_INFLUX_URL: '',
          OUTPOST_INFLUX_PORT: String(influxPort),
          OUTPOST_INFLUX_RPC_PORT: String(await freePort()),
        },
      });
      await expect(started).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the address is in use`);
      expect(existsSync(path.join(varDir, 'influxdb'))).toBe(true);
      expect(await listening(influxPort)).toBe(false);
      const socket = path.join(varDir, 'redis/redis.sock');
      const answers = await new Promise<boolean>((resolve) => {
        const client = net.connect(socket, () => {
          client.destroy();
          resolve(true);
        });
        client.once('error', () => resolve(false));
      });
      expect(answers).toBe(false);
    } finally {
      taken.close();
    }
  });
});
