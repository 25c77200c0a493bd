/**
 * Tenants (issue 10) on a real `outpost serve` and Redis: every route × each role × the token's own
 * project / another project / the whole service gives the status the route's contract promises, with
 * no body naming the other tenant; a revoked token is refused by a second node within a second; an
 * expired one is refused; the audit trail records who did what, and no secret. Two `--role api` nodes
 * and no worker: jobs submitted here stay queued, so nothing leaves loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInflux, type TestInflux } from '../../support/influx.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { api, outpostCli, startOutpost, TEST_TOKEN, type OutpostProcess } from './start-outpost.ts';

const ROLES = ['viewer', 'operator', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Scope = 'own' | 'other' | 'service';

/** The token's project, and the other tenant's: its name must never show in what `acme` tokens get. */
const OWN = 'acme';
const OTHER = 'bolt';

let redis: TestRedis;
let influx: TestInflux;
let varDir: string;
let nodeA: OutpostProcess;
let nodeB: OutpostProcess;
/** Token secrets by `scope/role`: `acme/viewer`, `*\/admin`... */
const tokens = new Map<string, string>();
let counter = 0;

/** A request one case makes. */
interface Call {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Read this long, then hang up (a live stream). */
  streamMs?: number;
}

/** A route of the contract, as a tenant sees it. */
interface RouteCase {
  /** Weakest role that may call it (none: open to anyone). */
  role: Role | 'none';
  /**
   * `located`: it acts on an object of one project (another project's: 404); `listed`: it answers only
   * what the token's scope sees; `creates`: it makes something for a project (another project's: 403);
   * `service`: `*` tokens only; `public`: no token needed.
   */
  scope: 'located' | 'listed' | 'creates' | 'service' | 'public';
  /** The status when allowed. */
  ok: number;
  /** The request, for objects of `project` (made fresh when the route changes them). */
  request(project: string): Promise<Call> | Call;
  /** Whether an answer to an `acme` token tells something of `bolt` (default: it names bolt). */
  leaks?: (text: string) => boolean;
}

/** A short id prefix per project that does not spell the project's name: `a-`, `b-`. */
const p = (project: string): string => `${project[0]}-`;
const next = (): number => (counter += 1);
let networks = 0;
/** A /29 of its own for each new proxy (two proxies serving one network would tie their hosts). */
const nextNetwork = (): string => `192.0.2.${(networks += 1) * 8}/29`;

const hostBody = (project: string, id: string) => ({
  id,
  project,
  address: project === OWN ? '198.51.100.5' : '203.0.113.5',
  network: project === OWN ? '198.51.100.0/26' : '203.0.113.0/26',
});
const proxyBody = (project: string, id: string, network: string) => ({
  id,
  project,
  publicAddress: '198.51.100.200',
  vpcAddress: project === OWN ? '198.51.100.1' : '203.0.113.1',
  networks: [network],
});

async function asService(method: string, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const answer = await api(nodeA.url, method, route, body);
  expect(answer.status, `${method} ${route}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}
const freshHost = async (project: string): Promise<string> => {
  const id = `${p(project)}del-${next()}`;
  await asService('POST', '/v1/hosts', hostBody(project, id));
  return id;
};
const freshProxy = async (project: string): Promise<string> => {
  const n = next();
  await asService('POST', '/v1/proxies', proxyBody(project, `${p(project)}px-${n}`, nextNetwork()));
  return `${p(project)}px-${n}`;
};
const freshJob = async (project: string): Promise<string> =>
  String((await asService('POST', '/v1/jobs', { kind: 'probe', hosts: [`${p(project)}web`] })).id);

/** A route case: who may call it, how its scope works, its status when allowed, and its request. */
const route = (
  role: RouteCase['role'],
  scope: RouteCase['scope'],
  ok: number,
  request: RouteCase['request'],
  leaks?: RouteCase['leaks'],
): RouteCase => ({ role, scope, ok, request, ...(leaks ? { leaks } : {}) });
const get = (path: string, headers?: Record<string, string>): Call => ({
  method: 'GET',
  path,
  ...(headers ? { headers } : {}),
});
const post = (path: string, body?: unknown): Call => ({
  method: 'POST',
  path,
  ...(body !== undefined ? { body } : {}),
});
const del = (path: string): Call => ({ method: 'DELETE', path });

/** Every route of the API (by operationId), what it needs, and a request for it. */
const ROUTES: Record<string, RouteCase> = {
  health: route('none', 'public', 200, () => get('/healthz')),
  openApi: route('none', 'public', 200, () => get('/v1/openapi.json')),
  metrics: route('viewer', 'service', 200, () => get('/metrics')),
  // The body's token signs in; the Bearer header of the case is not what counts here.
  signIn: route('none', 'public', 201, () => post('/v1/session', { token: tokens.get(`${OWN}/viewer`) })),
  whoAmI: route('none', 'public', 200, () => get('/v1/session')),
  signOut: route('viewer', 'listed', 204, () => del('/v1/session')),
  // From the stream's start: every registry change so far, of both tenants.
  streamEvents: route('viewer', 'listed', 200, () => ({
    ...get('/v1/events?after=0-0', { accept: 'text/event-stream' }),
    streamMs: 400,
  })),
  // acme's own refused tries name what they asked for; nothing else of bolt may show.
  readAudit: route(
    'admin',
    'listed',
    200,
    () => get('/v1/audit?limit=10000'),
    (text) =>
      (JSON.parse(text) as { project: string; data: { who: { scope?: string } | null } }[]).some(
        (entry) =>
          entry.project !== OWN || (entry.data.who?.scope !== OWN && JSON.stringify(entry).includes(OTHER)),
      ),
  ),
  createToken: route('admin', 'creates', 201, (project) =>
    post('/v1/tokens', { name: `t${next()}`, scope: project, role: 'viewer' }),
  ),
  listTokens: route('admin', 'listed', 200, () => get('/v1/tokens')),
  revokeToken: route('admin', 'located', 204, async (project) => {
    const made = await asService('POST', '/v1/tokens', {
      name: `r${next()}`,
      scope: project,
      role: 'viewer',
    });
    return del(`/v1/tokens/${String(made.id)}`);
  }),
  submitJob: route('operator', 'located', 202, (project) =>
    post('/v1/jobs', { kind: 'probe', hosts: [`${p(project)}web`] }),
  ),
  listJobs: route('viewer', 'listed', 200, (project) => get(`/v1/jobs?project=${project}`)),
  getJob: route('viewer', 'located', 200, async (project) => get(`/v1/jobs/${await freshJob(project)}`)),
  cancelJob: route('operator', 'located', 202, async (project) =>
    post(`/v1/jobs/${await freshJob(project)}/cancel`),
  ),
  streamJobEvents: route('viewer', 'located', 200, async (project) =>
    get(`/v1/jobs/${await freshJob(project)}/events?follow=false`),
  ),
  readJobLog: route('viewer', 'located', 200, async (project) =>
    get(`/v1/jobs/${await freshJob(project)}/log`),
  ),
  // Nothing written to this file's InfluxDB: the lines are empty, but answered (another project's host: 404).
  getHostSeries: route('viewer', 'located', 200, (project) => get(`/v1/hosts/${p(project)}web/series`)),
  listTunnels: route('viewer', 'listed', 200, () => get('/v1/tunnels')),
  // Both projects exist: past the guard, the registry answers 409 (another project: 403, never created).
  createProject: route('admin', 'creates', 409, (project) => post('/v1/projects', { id: project })),
  listProjects: route('viewer', 'listed', 200, () => get('/v1/projects')),
  getProject: route('viewer', 'located', 200, (project) => get(`/v1/projects/${project}`)),
  // Both projects have hosts: past the guard, the registry refuses to delete them (409).
  deleteProject: route('admin', 'located', 409, (project) => del(`/v1/projects/${project}`)),
  getEnrollScript: route('operator', 'located', 200, (project) =>
    get(`/v1/projects/${project}/enroll-script`),
  ),
  getInventory: route('viewer', 'located', 200, (project) => get(`/v1/inventories/${project}`)),
  getInventoryFiles: route('admin', 'located', 200, (project) =>
    get(`/v1/inventories/${project}/files?dir=/tmp/inv`),
  ),
  createProxy: route('admin', 'located', 201, (project) =>
    post('/v1/proxies', proxyBody(project, `${p(project)}new-${next()}`, nextNetwork())),
  ),
  listProxies: route('viewer', 'listed', 200, (project) => get(`/v1/proxies?project=${project}`)),
  getProxy: route('viewer', 'located', 200, (project) => get(`/v1/proxies/${p(project)}px`)),
  deleteProxy: route('admin', 'located', 204, async (project) =>
    del(`/v1/proxies/${await freshProxy(project)}`),
  ),
  // `forget` only unpins: an empty body would read the key from a VM this file does not have.
  rekeyProxy: route('admin', 'located', 200, (project) =>
    post(`/v1/proxies/${p(project)}px/rekey`, { forget: true }),
  ),
  createHost: route('admin', 'located', 201, (project) =>
    post('/v1/hosts', hostBody(project, `${p(project)}new-${next()}`)),
  ),
  listHosts: route('viewer', 'listed', 200, (project) => get(`/v1/hosts?project=${project}`)),
  getHost: route('viewer', 'located', 200, (project) => get(`/v1/hosts/${p(project)}web`)),
  deleteHost: route('admin', 'located', 204, async (project) => del(`/v1/hosts/${await freshHost(project)}`)),
  rekeyHost: route('admin', 'located', 200, (project) =>
    post(`/v1/hosts/${p(project)}web/rekey`, { forget: true }),
  ),
};

/** The status a route must answer a token of `role` in `scope`, by the contract above (not by the code). */
function expected(route: RouteCase, role: Role, scope: Scope): number {
  if (route.scope === 'public') return route.ok;
  const strongEnough = ROLES.indexOf(role) >= ROLES.indexOf(route.role as Role);
  if (scope === 'service') return strongEnough ? route.ok : 403;
  if (route.scope === 'service' || !strongEnough) return 403;
  if (scope === 'own' || route.scope === 'listed') return route.ok;
  return route.scope === 'creates' ? 403 : 404;
}

async function send(base: string, token: string | undefined, call: Call) {
  const controller = new AbortController();
  const response = await fetch(new URL(call.path, base), {
    method: call.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...call.headers,
    },
    ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    signal: controller.signal,
  });
  let text = '';
  if (call.streamMs !== undefined && response.ok) {
    const timer = setTimeout(() => controller.abort(), call.streamMs);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        text += Buffer.from(chunk).toString('utf8');
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    clearTimeout(timer);
  } else {
    text = await response.text();
  }
  return { status: response.status, text, type: response.headers.get('content-type') ?? '' };
}

beforeAll(async () => {
  [redis, influx] = await Promise.all([startRedis(), startInflux()]);
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-tenants-'));
  // An InfluxDB of this file's own: the charts route reads it (empty, but answered).
  const env = { OUTPOST_INFLUX_URL: influx.url };
  [nodeA, nodeB] = await Promise.all([
    startOutpost({ redisUrl: redis.url, varDir, roles: ['api'], name: 'tenants-a', env }),
    startOutpost({ redisUrl: redis.url, varDir, roles: ['api'], name: 'tenants-b', env }),
  ]);
  for (const project of [OWN, OTHER]) {
    await asService('POST', '/v1/projects', { id: project });
    await asService(
      'POST',
      '/v1/proxies',
      proxyBody(project, `${p(project)}px`, hostBody(project, '').network),
    );
    await asService('POST', '/v1/hosts', hostBody(project, `${p(project)}web`));
  }
  // One token through the CLI, as a person would make it; the rest through the API.
  const made = await outpostCli(
    nodeA.url,
    `token create --project ${OWN} --role operator --name ci --expires 30d`.split(' '),
  );
  expect(made.code, made.stderr).toBe(0);
  expect(made.stderr).toMatch(
    /^outpost: token tok-[0-9a-f]{12} \(ci, operator of project acme, until .*\) created; it is shown this once\n$/,
  );
  tokens.set(`${OWN}/operator`, made.stdout.trim());
  for (const scope of [OWN, '*'])
    for (const role of ROLES) {
      if (tokens.has(`${scope}/${role}`)) continue;
      const body = await asService('POST', '/v1/tokens', {
        name: `${scope === '*' ? 'all' : scope}-${role}`,
        scope,
        role,
      });
      tokens.set(`${scope}/${role}`, String(body.token));
    }
});

afterAll(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await Promise.all([redis?.stop(), influx?.stop()]);
  if (varDir) await rm(varDir, { recursive: true, force: true });
  for (const project of [OWN, OTHER])
    await rm(path.resolve(import.meta.dirname, '../../../inventories', project), {
      recursive: true,
      force: true,
    });
});

describe('the route × role × scope matrix', () => {
  it('covers every route of the OpenAPI document, and nothing else', async () => {
    const { body } = await api<{ paths: Record<string, Record<string, { operationId: string }>> }>(
      nodeA.url,
      'GET',
      '/v1/openapi.json',
    );
    const operations = Object.values(body.paths).flatMap((methods) =>
      Object.values(methods).map((operation) => operation.operationId),
    );
    expect(Object.keys(ROUTES).sort()).toEqual(operations.sort());
  });

  it('answers each role in each scope as the contract says, as problem+json, never naming the other tenant', async () => {
    const failures: string[] = [];
    for (const [name, route] of Object.entries(ROUTES))
      for (const role of ROLES)
        for (const scope of ['own', 'other', 'service'] as const) {
          const token = tokens.get(`${scope === 'service' ? '*' : OWN}/${role}`);
          const call = await route.request(scope === 'own' ? OWN : OTHER);
          const answer = await send(nodeA.url, token, call);
          const want = expected(route, role, scope);
          const label = `${name} as ${scope === 'service' ? '*' : OWN} ${role} on ${scope === 'own' ? OWN : OTHER}: ${call.method} ${call.path}`;
          if (answer.status !== want)
            failures.push(`${label}: ${answer.status}, expected ${want}: ${answer.text.slice(0, 200)}`);
          if (answer.status >= 400 && !answer.type.includes('application/problem+json'))
            failures.push(`${label}: a ${answer.status} as ${answer.type}`);
          // What an acme token gets never names bolt, unless it echoes the object the request named.
          const named =
            route.scope !== 'listed' && `${call.path} ${JSON.stringify(call.body ?? '')}`.includes(OTHER);
          const leaks = route.leaks ?? ((text: string) => text.includes(OTHER));
          if (scope !== 'service' && answer.status < 300 && !named && leaks(answer.text))
            failures.push(`${label}: the answer tells of ${OTHER}: ${answer.text.slice(0, 300)}`);
          if (scope !== 'service' && answer.status >= 300 && !named && answer.text.includes(OTHER))
            failures.push(`${label}: the refusal names ${OTHER}: ${answer.text.slice(0, 300)}`);
        }
    expect(failures).toEqual([]);
  });

  it('answers another tenant’s object exactly as one that does not exist', async () => {
    const token = tokens.get(`${OWN}/admin`);
    const pairs: [string, string, string, string][] = [
      ['GET', '/v1/hosts/', 'b-web', 'b-nosuch'],
      ['GET', '/v1/proxies/', 'b-px', 'b-nopx'],
      ['GET', '/v1/projects/', OTHER, 'nosuch'],
      ['GET', '/v1/inventories/', OTHER, 'nosuch'],
      ['POST', '/v1/hosts/', 'b-web', 'b-nosuch'],
    ];
    for (const [method, prefix, theirs, missing] of pairs) {
      const suffix = method === 'POST' ? '/rekey' : '';
      const a = await send(nodeA.url, token, { method, path: `${prefix}${theirs}${suffix}` });
      const b = await send(nodeA.url, token, { method, path: `${prefix}${missing}${suffix}` });
      expect([a.status, b.status]).toEqual([404, 404]);
      expect(a.text.replaceAll(theirs, 'X')).toBe(b.text.replaceAll(missing, 'X'));
    }
    const job = await freshJob(OTHER);
    const a = await send(nodeA.url, token, { method: 'GET', path: `/v1/jobs/${job}` });
    const b = await send(nodeA.url, token, { method: 'GET', path: '/v1/jobs/nosuch-job' });
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(a.text.replaceAll(job, 'X')).toBe(b.text.replaceAll('nosuch-job', 'X'));
  });
});

describe('revocation and expiry', () => {
  it('refuses a token revoked on one node at the other within a second, and ends its live stream there', async () => {
    const made = await outpostCli(
      nodeA.url,
      `token create --project ${OWN} --role viewer --name laptop`.split(' '),
    );
    const token = made.stdout.trim();
    const id = /token (tok-[0-9a-f]{12})/.exec(made.stderr)?.[1] ?? '';
    expect((await send(nodeB.url, token, { method: 'GET', path: '/v1/hosts' })).status).toBe(200);
    const listed = await outpostCli(nodeA.url, ['token', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+laptop\\s+acme\\s+viewer\\s`));
    expect(listed.stdout).not.toContain(token.split('.')[2]);
    // A live stream on node B with that token.
    const controller = new AbortController();
    const stream = await fetch(new URL('/v1/events', nodeB.url), {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const ended = (async () => {
      for await (const _ of stream.body as unknown as AsyncIterable<Uint8Array>) {
        // Heartbeats until the node ends it.
      }
      return Date.now();
    })().catch(() => Date.now());

    const revoked = await outpostCli(nodeA.url, ['token', 'revoke', id]);
    expect(revoked.stderr).toBe(`outpost: token ${id} revoked\n`);
    const at = Date.now();
    const refused = await send(nodeB.url, token, { method: 'GET', path: '/v1/hosts' });
    expect(refused.status).toBe(401);
    expect(Date.now() - at).toBeLessThan(1000);
    const streamEnded = await Promise.race([
      ended,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000)),
    ]);
    controller.abort();
    expect(streamEnded).toBeGreaterThan(0);
    expect(streamEnded - at).toBeLessThan(1000);
    expect((await outpostCli(nodeA.url, ['token', 'list'])).stdout).not.toContain(id);
  });

  it('refuses a token once it has expired', async () => {
    const made = await asService('POST', '/v1/tokens', {
      name: 'brief',
      scope: OWN,
      role: 'viewer',
      expiresIn: '2s',
    });
    const token = String(made.token);
    expect((await send(nodeB.url, token, { method: 'GET', path: '/v1/hosts' })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(String(made.expiresAt)) - Date.now() + 50));
    const refused = await send(nodeB.url, token, { method: 'GET', path: '/v1/hosts' });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toMatchObject({ status: 401, detail: 'the bearer token is not valid' });
  });
});

describe('the audit trail', () => {
  it('records a deploy, a cancel, a token creation and a refused request with the token’s name, and no secret', async () => {
    const operator = tokens.get(`${OWN}/operator`) ?? '';
    const headers = { authorization: `Bearer ${operator}` };
    const deploy = await api(
      nodeA.url,
      'POST',
      '/v1/jobs',
      { kind: 'deploy-agent', hosts: ['a-web'] },
      headers,
    );
    expect(deploy.status).toBe(202);
    expect(deploy.body.submittedBy).toMatchObject({ name: 'ci' });
    const jobId = String(deploy.body.id);
    expect((await api(nodeA.url, 'POST', `/v1/jobs/${jobId}/cancel`, undefined, headers)).status).toBe(202);
    const refused = await api(nodeA.url, 'DELETE', '/v1/hosts/a-web', undefined, headers);
    expect(refused.status).toBe(403);
    const created = await asService('POST', '/v1/tokens', { name: 'auditor', scope: OWN, role: 'admin' });
    const shown = await outpostCli(nodeA.url, ['job', 'show', jobId]);
    expect(shown.stdout).toMatch(/submitted by\s+ci \(tok-[0-9a-f]{12}\)/);

    // Read by acme's new admin through the CLI: its project's entries only.
    const env = { OUTPOST_API_TOKEN: String(created.token) };
    const run = await outpostCli(nodeA.url, ['audit', '--json', '--limit', '1000'], env);
    expect(run.code, run.stderr).toBe(0);
    const entries = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { project: string | null; data: Record<string, unknown> });
    expect(entries.every((entry) => entry.project === OWN)).toBe(true);
    const find = (action: string, object?: string) =>
      entries.find(
        (entry) =>
          entry.data.action === action && (!object || (entry.data.objects as string[]).includes(object)),
      );
    expect(find('job.submit', `job:${jobId}`)?.data).toMatchObject({
      who: { name: 'ci' },
      outcome: 'ok',
      status: 202,
    });
    expect(find('job.cancel', `job:${jobId}`)?.data).toMatchObject({ who: { name: 'ci' }, outcome: 'ok' });
    // Refused for its role before its input was read: the entry names the path it asked for.
    const refusal = entries.find(
      (entry) => entry.data.action === 'host.delete' && entry.data.path === '/v1/hosts/a-web',
    );
    expect(refusal?.data).toMatchObject({
      who: { name: 'ci' },
      outcome: 'refused',
      status: 403,
      code: 'forbidden',
    });
    expect(find('token.create', `token:${String(created.id)}`)?.data).toMatchObject({
      who: { name: 'service token' },
      outcome: 'ok',
    });
    const table = await outpostCli(nodeA.url, ['audit'], env);
    expect(table.stdout).toMatch(
      /ci \(tok-[0-9a-f]{12}\)\s+host\.delete\s+DELETE \/v1\/hosts\/a-web\s+refused 403 forbidden/,
    );
    // The whole trail, as the service sees it, holds no token.
    const all = await outpostCli(nodeA.url, ['audit', '--json', '--limit', '9999']);
    for (const secret of [TEST_TOKEN, ...tokens.values(), String(created.token)])
      expect(all.stdout).not.toContain(secret.split('.').at(-1));
  });

  it('follows new entries live with outpost audit --follow', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [path.resolve(import.meta.dirname, '../../../bin/outpost.js'), 'audit', '--follow', '--limit', '1'],
      { env: { ...process.env, OUTPOST_URL: nodeB.url, OUTPOST_API_TOKEN: tokens.get(`${OWN}/admin`) } },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!out.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return out;
    };
    try {
      await waitFor('TIME');
      await asService('POST', '/v1/hosts', hostBody(OWN, 'a-live'));
      await asService('POST', '/v1/hosts', hostBody(OTHER, 'b-live'));
      await asService('DELETE', '/v1/hosts/a-live');
      expect(await waitFor('host:a-live')).toMatch(
        /service token \(service\)\s+host\.create\s+\S*host:a-live\S*\s+ok 201\s+acme/,
      );
      await waitFor('host.delete');
      expect(out).not.toContain('b-live');
    } finally {
      child.kill();
    }
  });
});
