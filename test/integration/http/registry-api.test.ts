import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { api, outpostCli, startOutpost, type OutpostProcess } from './start-outpost.ts';

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-reg-'));
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'serve' });
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

const cli = (...args: string[]) => outpostCli(outpost.url, args, { OUTPOST_VAR_DIR: varDir });

describe('registry over HTTP and the CLI', () => {
  it('creates, lists, shows and deletes projects, proxies and hosts', async () => {
    const project = await api(outpost.url, 'POST', '/v1/projects', { id: 'acme' });
    expect(project.status).toBe(201);
    expect(String((project.body.publicKeys as { project: string }).project)).toMatch(/^ssh-ed25519 /);
    const proxy = await api(outpost.url, 'POST', '/v1/proxies', {
      id: 'vpc1-proxy',
      project: 'acme',
      publicAddress: '203.0.113.10',
      vpcAddress: '198.51.100.2',
      networks: ['198.51.100.0/26'],
    });
    expect(proxy.status).toBe(201);
    const host = await api(outpost.url, 'POST', '/v1/hosts', {
      id: 'vm1',
      project: 'acme',
      address: '198.51.100.5',
    });
    expect(host.status).toBe(201);

    const listed = await cli('host', 'list', '--project', 'acme', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((h) => h.id)).toEqual(['vm1']);
    expect((await api(outpost.url, 'GET', '/v1/proxies/vpc1-proxy')).body.networks).toEqual([
      '198.51.100.0/26',
    ]);
    const script = await api<string>(outpost.url, 'GET', '/v1/projects/acme/enroll-script');
    expect(script.status).toBe(200);
    expect(script.body).toContain('cloudroot');
    expect(script.body).not.toMatch(/PRIVATE KEY/);

    expect((await api(outpost.url, 'DELETE', '/v1/hosts/vm1')).status).toBe(204);
    expect((await api(outpost.url, 'GET', '/v1/hosts/vm1')).status).toBe(404);
  });

  it('refuses bad registry input with problem+json naming the field', async () => {
    const bad = await api(outpost.url, 'POST', '/v1/hosts', {
      id: 'vm2',
      project: 'acme',
      address: '198.51.100.6',
      shell: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(String(bad.body.detail)).toContain('shell');
    const badId = await api(outpost.url, 'GET', '/v1/projects/ACME;rm');
    expect(badId).toMatchObject({ status: 400, body: { field: 'id' } });
    const dup = await api(outpost.url, 'POST', '/v1/projects', { id: 'acme' });
    expect(dup.status).toBe(409);
  });

  it('follows a job with `outpost job logs -f` and exits with its outcome', async () => {
    const ok = await cli(
      'job',
      'submit',
      'run-playbook',
      '--hosts',
      'localhost',
      '--playbook',
      'test/fixtures/playbooks/ping.yml',
      '-f',
    );
    expect(ok.code).toBe(0);
    // Each status once: submit says "queued", following does not say it again.
    expect(
      ok.stderr
        .split('\n')
        .filter((line) => line.startsWith('outpost: job '))
        .map((line) => line.replace(/job-[a-z0-9-]+/, 'ID')),
    ).toEqual(['outpost: job ID queued', 'outpost: job ID running', 'outpost: job ID successful']);
    expect(ok.stdout).toContain('"msg": "hello from localhost"');
    expect(ok.stderr).toMatch(/job job-[a-z0-9-]+ successful/);
    const failed = await api(outpost.url, 'POST', '/v1/jobs', {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/fail.yml',
    });
    const logs = await cli('job', 'logs', String(failed.body.id), '-f');
    expect(logs.code).toBe(1);
    expect(logs.stdout).toContain('planned failure');
    const list = await cli('job', 'list', '--json');
    expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThanOrEqual(2);
  });
});
