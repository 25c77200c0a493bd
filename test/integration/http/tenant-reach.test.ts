/**
 * A project operator cannot reach another project's host (issue 10): not by naming it, a proxy or the
 * project, not through a network selector both projects share, a --limit, an extra var or a playbook
 * path, not through another tenant's idempotency key, and not through any route naming the host. A real
 * `outpost serve` (api and worker) runs the jobs it lets through with a real ansible-playbook: the
 * fixture playbook answers on the control plane for each inventory host (connection local), so the
 * run's per-host result shows exactly which hosts a job reached, with no traffic to them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { api, startOutpost, waitForEnd, type OutpostProcess } from './start-outpost.ts';

const LOCAL = 'test/fixtures/playbooks/local.yml';
// Both tenants use the same private range, as two customers' VPCs do.
const NETWORK = '198.51.100.0/26';

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;
let operator: Record<string, string>;
let admin: Record<string, string>;
let boltToken: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-reach-'));
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'reach' });
  const add = async (route: string, body: Record<string, unknown>) => {
    const answer = await api(outpost.url, 'POST', route, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  for (const [project, prefix] of [
    ['acme', 'a'],
    ['bolt', 'b'],
  ] as const) {
    await add('/v1/projects', { id: project });
    await add('/v1/proxies', {
      id: `${prefix}-px`,
      project,
      publicAddress: prefix === 'a' ? '203.0.113.10' : '203.0.113.20',
      vpcAddress: '198.51.100.1',
      networks: [NETWORK],
    });
    for (const n of [1, 2])
      await add('/v1/hosts', {
        id: `${prefix}-${n}`,
        project,
        address: `198.51.100.${10 + n}`,
        network: NETWORK,
      });
  }
  const bearer = async (scope: string, role: string) => ({
    authorization: `Bearer ${String((await add('/v1/tokens', { name: `${scope}-${role}`, scope, role })).token)}`,
  });
  operator = await bearer('acme', 'operator');
  admin = await bearer('acme', 'admin');
  boltToken = await bearer('bolt', 'operator');
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

const submit = (body: Record<string, unknown>, headers = operator) =>
  api(outpost.url, 'POST', '/v1/jobs', body, headers);

/** Runs a job the operator may submit to its end; resolves to the hosts its run reached. */
async function reached(body: Record<string, unknown>): Promise<{ project: unknown; hosts: string[] }> {
  const answer = await submit(body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  const job = await waitForEnd(outpost.url, String(answer.body.id), 120_000);
  return { project: job.project, hosts: Object.keys(job.result ?? {}).sort() };
}

describe('a project operator token', () => {
  it('gets 404 for another project’s host, proxy or project, in any job kind, as for one that does not exist', async () => {
    const tries: Record<string, unknown>[] = [];
    for (const kind of ['probe', 'enroll', 'deploy-agent', 'remove-agent', 'run-playbook']) {
      const playbook = kind === 'run-playbook' ? { playbook: LOCAL } : {};
      tries.push(
        { kind, hosts: ['b-1'], ...playbook },
        { kind, hosts: ['a-1', 'b-1'], ...playbook },
        { kind, selector: { proxy: 'b-px' }, ...playbook },
        { kind, selector: { network: NETWORK, proxy: 'b-px' }, ...playbook },
        { kind, project: 'bolt', ...playbook },
        { kind, project: 'bolt', hosts: ['a-1'], ...playbook },
      );
    }
    for (const body of tries) {
      const answer = await submit(body);
      expect(answer.status, JSON.stringify(body)).toBe(404);
      expect(JSON.stringify(answer.body)).not.toContain('acme');
      // The same request naming what does not exist gets the same answer.
      const missing = JSON.parse(
        JSON.stringify(body).replaceAll('b-1', 'b-9').replaceAll('b-px', 'b-pz').replaceAll('bolt', 'bolz'),
      ) as Record<string, unknown>;
      const twin = await submit(missing);
      expect(twin.status).toBe(404);
      expect(
        JSON.stringify(twin.body)
          .replaceAll('b-9', 'b-1')
          .replaceAll('b-pz', 'b-px')
          .replaceAll('bolz', 'bolt'),
      ).toBe(JSON.stringify(answer.body));
    }
    // Kinds for admins: 403 for the operator; 404 for acme's admin, as above.
    expect((await submit({ kind: 'prepare-proxy', hosts: ['b-px'] })).status).toBe(403);
    expect((await submit({ kind: 'rotate-key', project: 'bolt' })).status).toBe(403);
    expect((await submit({ kind: 'prepare-proxy', hosts: ['b-px'] }, admin)).status).toBe(404);
    expect((await submit({ kind: 'rotate-key', project: 'bolt' }, admin)).status).toBe(404);
  });

  it('reaches only its project’s hosts through a network selector both projects share, whatever its --limit', async () => {
    expect(await reached({ kind: 'run-playbook', playbook: LOCAL, selector: { network: NETWORK } })).toEqual({
      project: 'acme',
      hosts: ['a-1', 'a-2'],
    });
    for (const limit of ['b-1', 'b-*', 'all', 'a-1,b-1', '198.51.100.*']) {
      const run = await reached({
        kind: 'run-playbook',
        playbook: LOCAL,
        selector: { network: NETWORK },
        options: { limit },
      });
      expect(run.project).toBe('acme');
      expect(
        run.hosts.filter((host) => !host.startsWith('a-')),
        limit,
      ).toEqual([]);
    }
    const limited = await reached({
      kind: 'run-playbook',
      playbook: LOCAL,
      project: 'acme',
      options: { limit: 'all' },
    });
    expect(limited.hosts).toEqual(['a-1', 'a-2']);
  });

  it('cannot redirect a run with extra vars, or run a file outside the playbook folders', async () => {
    for (const name of [
      'ansible_host',
      'ansible_ssh_common_args',
      'ansible_ssh_private_key_file',
      'outpost_project',
      'inventory_hostname',
      'groups',
    ])
      expect(
        (
          await submit({
            kind: 'run-playbook',
            playbook: LOCAL,
            hosts: ['a-1'],
            options: { extraVars: { [name]: 'b-1' } },
          })
        ).body,
      ).toMatchObject({
        status: 400,
        field: `body.options.extraVars.${name}`,
      });
    expect(
      (
        await submit({
          kind: 'run-playbook',
          playbook: LOCAL,
          hosts: ['a-1'],
          options: { extraVars: { x: '{{ groups.all }}' } },
        })
      ).status,
    ).toBe(400);
    // A var of its own does not widen the run.
    expect(
      await reached({
        kind: 'run-playbook',
        playbook: LOCAL,
        hosts: ['a-1'],
        options: { extraVars: { hosts: 'b-1', target: 'all' } },
      }),
    ).toEqual({ project: 'acme', hosts: ['a-1'] });
    for (const playbook of [
      'inventories/bolt/hosts.yml',
      '../inventories/bolt/hosts.yml',
      '/etc/x.yml',
      'playbooks/../inventories/bolt/hosts.yml',
    ])
      expect((await submit({ kind: 'run-playbook', playbook, hosts: ['a-1'] })).body, playbook).toMatchObject(
        {
          status: 400,
          field: 'body.playbook',
        },
      );
    expect(
      (await submit({ kind: 'run-playbook', playbook: 'inventories/bolt/hosts.yml', hosts: ['a-1'] })).body,
    ).toMatchObject({
      detail:
        'body.playbook: expected a playbook under playbooks/ or test/fixtures/playbooks/, got "inventories/bolt/hosts.yml"',
    });
  });

  it('gets its own job for another tenant’s idempotency key, and 404 from every route naming another project’s host', async () => {
    const key = 'nightly-1';
    const theirs = await submit(
      { kind: 'run-playbook', playbook: LOCAL, hosts: ['b-1'], idempotencyKey: key },
      boltToken,
    );
    expect(theirs.status).toBe(202);
    const ours = await submit({ kind: 'run-playbook', playbook: LOCAL, hosts: ['a-1'], idempotencyKey: key });
    expect(ours.status).toBe(202);
    expect(ours.body.id).not.toBe(theirs.body.id);
    expect(ours.body.project).toBe('acme');
    const before = await api(outpost.url, 'GET', '/v1/hosts/b-1');
    for (const [method, route] of [
      ['GET', '/v1/hosts/b-1'],
      ['GET', '/v1/hosts/b-1/series'],
      ['GET', `/v1/jobs/${String(theirs.body.id)}`],
      ['GET', `/v1/jobs/${String(theirs.body.id)}/log`],
      ['GET', `/v1/jobs/${String(theirs.body.id)}/events?follow=false`],
      ['POST', `/v1/jobs/${String(theirs.body.id)}/cancel`],
      ['GET', '/v1/proxies/b-px'],
      ['GET', '/v1/projects/bolt/enroll-script'],
      ['GET', '/v1/inventories/bolt'],
    ] as const)
      expect((await api(outpost.url, method, route, undefined, operator)).status, `${method} ${route}`).toBe(
        404,
      );
    for (const [method, route] of [
      ['DELETE', '/v1/hosts/b-1'],
      ['POST', '/v1/hosts/b-1/rekey'],
      ['GET', '/v1/inventories/bolt/files?dir=/tmp/x'],
    ] as const) {
      expect((await api(outpost.url, method, route, undefined, operator)).status, `${method} ${route}`).toBe(
        403,
      );
      expect((await api(outpost.url, method, route, undefined, admin)).status, `${method} ${route}`).toBe(
        404,
      );
    }
    const lists = await Promise.all(
      [
        '/v1/hosts?network=198.51.100.0%2F26',
        '/v1/hosts?project=bolt',
        '/v1/jobs?host=b-1',
        '/v1/proxies',
      ].map(async (route) => (await api(outpost.url, 'GET', route, undefined, operator)).body),
    );
    expect(JSON.stringify(lists)).not.toMatch(/b-1|b-px|bolt/);
    expect((await api(outpost.url, 'GET', '/v1/hosts/b-1')).body).toEqual(before.body);
    // bolt's jobs are bolt's token's only.
    const boltJobs = (await api<Record<string, unknown>[]>(outpost.url, 'GET', '/v1/jobs?project=bolt')).body;
    expect(boltJobs.map((job) => (job.submittedBy as { name: string }).name)).toEqual(['bolt-operator']);
  });
});
