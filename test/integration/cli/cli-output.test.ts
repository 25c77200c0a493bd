/**
 * What the `outpost` CLI prints for a person (issue 15 #10, #11, #13), against a real `outpost serve`:
 * readable `show` commands (with --json kept), job list columns and filters, host list's PROXY and
 * PORT, proxy list's prepared state. Jobs here run a play with a local connection: per-host results,
 * no traffic to the registered addresses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../../src/registry/registry.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { api, outpostCli, startOutpost, waitForEnd, type OutpostProcess } from '../http/start-outpost.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9zZjQ0dGVzdGtleW5vdGFyZWFsa2V5YWF5YWJjZGVmZ2hp';
let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;
const jobs: Record<string, string> = {};

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-cli-'));
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'cli' });
  const add = async (route: string, body: Record<string, unknown>) => {
    const answer = await api(outpost.url, 'POST', route, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  };
  await add('/v1/projects', { id: 'shop' });
  await add('/v1/proxies', {
    id: 'vpc-a',
    project: 'shop',
    publicAddress: '203.0.113.10',
    vpcAddress: '198.51.100.1',
    networks: ['198.51.100.0/26'],
    hostKey: KEY,
  });
  await add('/v1/proxies', {
    id: 'vpc-b',
    project: 'shop',
    publicAddress: '203.0.113.11',
    sshPort: 2200,
    vpcAddress: '192.0.2.1',
    networks: ['192.0.2.0/26'],
  });
  await add('/v1/hosts', {
    id: 'web-1',
    project: 'shop',
    address: '198.51.100.5',
    network: '198.51.100.0/26',
  });
  await add('/v1/hosts', {
    id: 'web-2',
    project: 'shop',
    address: '192.0.2.5',
    sshPort: 2222,
    proxy: 'vpc-b',
  });
  await add('/v1/hosts', { id: 'db-1', project: 'shop', address: '203.0.113.50' });
  // The self-test a prepare-proxy job records (it needs a lab to run for real; login-lab.test.ts does).
  const connection = new Redis(redis.url);
  await new Registry(connection).updateProxy('vpc-a', {
    selfTest: { at: '2026-01-02T03:04:05.000Z', ok: true, bindAddress: '198.51.100.1', port: 40123, ms: 12 },
  });
  connection.disconnect();

  const submit = async (body: Record<string, unknown>) => {
    const answer = await api<{ id: string }>(outpost.url, 'POST', '/v1/jobs', body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    await waitForEnd(outpost.url, answer.body.id);
    return answer.body.id;
  };
  const local = 'test/fixtures/playbooks/local.yml';
  jobs.ok = await submit({ kind: 'run-playbook', hosts: ['web-1', 'db-1'], playbook: local });
  jobs.failed = await submit({
    kind: 'run-playbook',
    hosts: ['db-1'],
    playbook: local,
    options: { extraVars: { fail_message: 'disk full on /var\nsecond line of the error\nthird line' } },
  });
  jobs.local = await submit({
    kind: 'run-playbook',
    hosts: ['localhost'],
    playbook: 'test/fixtures/playbooks/ping.yml',
  });
}, 120_000);

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

const cli = (...args: string[]) => outpostCli(outpost.url, args);

/** The table's rows as arrays of cells (split on runs of two or more spaces). */
function table(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));
}

describe('registry lists', () => {
  it('host list shows the port and the proxy each host goes through, named or matched by network', async () => {
    const { stdout, code } = await cli('host', 'list', '--project', 'shop');
    expect(code).toBe(0);
    const rows = table(stdout);
    expect(rows[0]?.slice(0, 5)).toEqual(['ID', 'PROJECT', 'ADDRESS', 'PORT', 'PROXY']);
    expect(rows.slice(1).map((row) => row.slice(0, 6))).toEqual([
      ['db-1', 'shop', '203.0.113.50', '22', '-', 'unknown'],
      ['web-1', 'shop', '198.51.100.5', '22', 'vpc-a', 'unknown'],
      ['web-2', 'shop', '192.0.2.5', '2222', 'vpc-b', 'unknown'],
    ]);
  });

  it('proxy list shows whether each proxy is prepared and its last self-test', async () => {
    const { stdout } = await cli('proxy', 'list');
    const rows = table(stdout);
    expect(rows[0]).toEqual([
      'ID',
      'PROJECT',
      'PUBLICADDRESS',
      'VPCADDRESS',
      'NETWORKS',
      'USER',
      'PREPARED',
      'SELF-TEST',
    ]);
    expect(rows[1]).toEqual([
      'vpc-a', 'shop', '203.0.113.10', '198.51.100.1', '198.51.100.0/26', 'cloudroot', 'yes',
      'ok 2026-01-02 03:04:05Z via 198.51.100.1:40123 (12 ms)',
    ]); // prettier-ignore
    expect(rows[2]).toEqual([
      'vpc-b',
      'shop',
      '203.0.113.11:2200',
      '192.0.2.1',
      '192.0.2.0/26',
      'cloudroot',
      'no (no host key)',
      '-',
    ]);
  });

  it('project list has no --project option', async () => {
    const refused = await cli('project', 'list', '--project', 'shop');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("unknown option '--project'");
    expect(table((await cli('project', 'list')).stdout)[1]?.[0]).toBe('shop');
  });
});

describe('show commands', () => {
  it('host show reads as a summary, and --json is the record', async () => {
    const { stdout } = await cli('host', 'show', 'web-1');
    expect(stdout).toMatch(/^host web-1 {2}\(project shop\)\n/);
    expect(stdout).toMatch(/^address +198\.51\.100\.5 port 22$/m);
    expect(stdout).toMatch(/^proxy +vpc-a \(matched by network 198\.51\.100\.0\/26\)$/m);
    expect(stdout).toMatch(/^host key +not pinned: the next probe or enrollment records it$/m);
    expect(stdout).toMatch(/^login +unknown$/m);
    expect(stdout).not.toContain('{');
    expect(JSON.parse((await cli('host', 'show', 'web-1', '--json')).stdout)).toMatchObject({
      id: 'web-1',
      sshPort: 22,
    });
    expect((await cli('host', 'show', 'db-1')).stdout).toMatch(/^proxy +none: reached directly$/m);
  });

  it('proxy show says whether it is prepared, how to prepare it, and the hosts going through it', async () => {
    const a = (await cli('proxy', 'show', 'vpc-a')).stdout;
    expect(a).toMatch(/^host key +ssh-ed25519 SHA256:[A-Za-z0-9+/]{43} \(pinned\)$/m);
    expect(a).toMatch(/^prepared +yes$/m);
    expect(a).toMatch(/^hosts +1: web-1$/m);
    const b = (await cli('proxy', 'show', 'vpc-b')).stdout;
    expect(b).toMatch(
      /^prepared +no \(no host key\): `outpost prepare-proxy vpc-b --project shop` with --user and --password-file or --key-file prepares it$/m,
    );
    expect(b).toMatch(/^hosts +1: web-2$/m);
  });

  it('project show counts its proxies and hosts', async () => {
    const { stdout } = await cli('project', 'show', 'shop');
    expect(stdout).toMatch(/^project shop\n/);
    expect(stdout).toMatch(/^project key +ssh-ed25519 SHA256:/m);
    expect(stdout).toMatch(/^proxies +2: vpc-a, vpc-b$/m);
    expect(stdout).toMatch(/^hosts +3 \(3 none\): db-1, web-1, web-2$/m);
  });

  it('job show reads as a summary with a row per host and its first error; --json is the record', async () => {
    const { stdout } = await cli('job', 'show', jobs.failed ?? '');
    expect(stdout.split('\n')[0]).toBe(`${jobs.failed}  run-playbook  failed`);
    expect(stdout).toMatch(/^project +shop$/m);
    expect(stdout).toMatch(/^ended +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}\(ran [\d.]+ m?s\)$/m);
    expect(stdout).toMatch(/^command +ansible-playbook .*local\.yml/m);
    const rows = table(stdout.slice(stdout.indexOf('\nHOST') + 1));
    expect(rows[0]).toEqual(['HOST', 'OK', 'CHANGED', 'FAILED', 'UNREACHABLE', 'OUTCOME']);
    expect(rows[1]).toEqual(['db-1', '1', '0', '1', '0', 'failed at "Fail when asked": disk full on /var …']);
    expect(JSON.parse((await cli('job', 'show', jobs.failed ?? '', '--json')).stdout)).toMatchObject({
      id: jobs.failed,
      status: 'failed',
    });
  });
});

describe('job list', () => {
  it('shows project, end and duration, and keeps a multi-line reason on one line', async () => {
    const { stdout } = await cli('job', 'list');
    const rows = table(stdout);
    expect(rows[0]).toEqual([
      'ID',
      'KIND',
      'PROJECT',
      'STATUS',
      'HOSTS',
      'CREATED',
      'ENDED',
      'DURATION',
      'REASON',
    ]);
    expect(rows.map((row) => row[0])).toEqual(['ID', jobs.local, jobs.failed, jobs.ok]);
    const failed = rows[2] ?? [];
    expect(failed.slice(1, 5)).toEqual(['run-playbook', 'shop', 'failed', 'db-1']);
    expect(failed[6]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(failed[7]).toMatch(/^[\d.]+ m?s$/);
    expect(failed.at(-1)).toMatch(/ …$/);
    expect(stdout.split('\n')).toHaveLength(5);
    expect(rows[3]?.slice(1, 5)).toEqual(['run-playbook', 'shop', 'successful', 'web-1,db-1']);
  });

  it('filters by project, status, kind and limit', async () => {
    const ids = async (...args: string[]) =>
      table((await cli('job', 'list', ...args)).stdout)
        .slice(1)
        .map((row) => row[0]);
    expect(await ids('--project', 'shop')).toEqual([jobs.failed, jobs.ok]);
    expect(await ids('--status', 'successful')).toEqual([jobs.local, jobs.ok]);
    expect(await ids('--project', 'shop', '--status', 'failed')).toEqual([jobs.failed]);
    expect(await ids('--kind', 'probe')).toEqual([]);
    expect(await ids('--limit', '1')).toEqual([jobs.local]);
    expect((await cli('job', 'list', '--limit', '0')).code).toBe(1);
  });
});
