import { mkdir, mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import {
  api,
  fixtureSleeps,
  processesMentioning,
  readSse,
  startOutpost,
  waitForEnd,
  waitForStatus,
  type OutpostProcess,
} from './start-outpost.ts';

const MASTER_KEY = 'a1'.repeat(32);
const OLD_RUN = 'job-from-last-month';
let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-api-'));
  // A run dir left by an earlier life of the service, a month old: rotated away when the worker starts.
  await mkdir(path.join(varDir, 'runs', OLD_RUN), { recursive: true });
  const monthAgo = new Date(Date.now() - 30 * 24 * 3600 * 1000);
  await utimes(path.join(varDir, 'runs', OLD_RUN), monthAgo, monthAgo);
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker'],
    name: 'serve',
    // Secrets and an agent socket the service has: none may reach ansible-playbook.
    env: { OUTPOST_MASTER_KEY: MASTER_KEY, SSH_AUTH_SOCK: '/tmp/outpost-test-agent.sock' },
  });
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const { status, body: job } = await api(outpost.url, 'POST', '/v1/jobs', body);
  expect(status).toBe(202);
  return String(job.id);
}

/** Process group ids of the live processes, by pid. */
async function pgidsOf(): Promise<Map<number, number>> {
  const { readdir } = await import('node:fs/promises');
  const map = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2]) map.set(Number(name), Number(fields[2]));
  }
  return map;
}

describe('jobs over HTTP with a real ansible-playbook', () => {
  it('runs a playbook and streams every stdout line and event over SSE to the final entry', async () => {
    const id = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/ping.yml',
    });
    const entries = await readSse(outpost.url, id);

    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.at(-1)?.type).toBe('end');
    expect(JSON.parse(entries.at(-1)?.data ?? '{}')).toEqual({ status: 'successful' });
    const stdout = entries.filter((e) => e.type === 'stdout').map((e) => e.data);
    expect(stdout).toContain(
      'TASK [Say hello] ***************************************************************',
    );
    expect(stdout.join('\n')).toContain('"msg": "hello from localhost"');
    const events = entries
      .filter((e) => e.type === 'event')
      .map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['playbook_start', 'task_start', 'host_result', 'recap']),
    );
    expect(
      events.filter((e) => e.event === 'item_result' || e.event === 'host_result').length,
    ).toBeGreaterThanOrEqual(3);
    const recap = events.find((e) => e.event === 'recap') as { hosts: Record<string, { ok: number }> };
    expect(recap.hosts.localhost?.ok).toBe(3);
    const statuses = entries
      .filter((e) => e.type === 'status')
      .map((e) => (JSON.parse(e.data) as { status: string }).status);
    expect(statuses).toEqual(['queued', 'running', 'successful']);

    const { body: job } = await api(outpost.url, 'GET', `/v1/jobs/${id}`);
    expect(job.status).toBe('successful');
    expect(job.result).toEqual({ localhost: { ok: 3, changed: 0, failed: 0, skipped: 0, unreachable: 0 } });
    expect((job.command as string[])[0]).toBe('ansible-playbook');
    expect(job.command).toContain(path.resolve('test/fixtures/playbooks/ping.yml'));
    expect(job.startedAt).toBeTypeOf('string');
    expect(job.endedAt).toBeTypeOf('string');
    // Where the time went, kept on the job of any kind: each task with its hosts, each host.
    const timings = job.timings as {
      runs: { playbook: string; wallMs: number; tasks: { task: string; hosts: number; wallMs: number }[] }[];
    };
    expect(timings.runs).toHaveLength(1);
    expect(timings.runs[0]?.playbook).toBe('ping.yml');
    expect(timings.runs[0]?.tasks.map((t) => [t.task, t.hosts])).toEqual([
      ['Ping the host', 1],
      ['Say hello', 1],
      ['Count to three', 1],
    ]);
    const wall = Date.parse(String(job.endedAt)) - Date.parse(String(job.startedAt));
    expect(timings.runs[0]?.wallMs).toBeLessThanOrEqual(wall);

    // Resuming with Last-Event-ID in the middle yields exactly the rest.
    const middle = Math.floor(entries.length / 2);
    const rest = await readSse(outpost.url, id, { lastEventId: middle });
    expect(rest).toEqual(entries.slice(middle));

    // NDJSON gives the same entries; the plain-text log gives the stdout lines, from a sequence on.
    const ndjson = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/events`, undefined, {
      accept: 'application/x-ndjson',
    });
    expect(ndjson.type).toContain('application/x-ndjson');
    expect(
      ndjson.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(entries);
    const log = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log`);
    expect(log.body).toBe(`${stdout.join('\n')}\n`);
    const from = entries.find((e) => e.type === 'stdout' && e.data.startsWith('PLAY RECAP'));
    const tail = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log?from=${from?.seq}&follow=true`);
    expect(tail.body.split('\n')[0]).toMatch(/^PLAY RECAP/);
  });

  it('tails a running job with ?follow=true until it ends', async () => {
    const id = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/slow.yml',
      options: { extraVars: { sleep_seconds: 2 } },
    });
    const started = Date.now();
    const tail = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log?follow=true`);
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(tail.body).toContain('"msg": "sleeping 2 s"');
    expect(tail.body).toMatch(/PLAY RECAP[^\n]*\nlocalhost +: ok=2/);
  });

  it('keeps a failed play as a result: per-host summary with the first error', async () => {
    const id = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/fail.yml',
    });
    const job = await waitForStatus(outpost.url, id, ['successful', 'failed']);
    expect(job.status).toBe('failed');
    expect(job.rc).toBe(2);
    expect(job.reason).toBe('localhost: failed at "Fail with a message": planned failure');
    expect(job.result).toEqual({
      localhost: {
        ok: 1,
        changed: 0,
        failed: 1,
        skipped: 0,
        unreachable: 0,
        firstError: { task: 'Fail with a message', status: 'failed', msg: 'planned failure' },
      },
    });
  });

  it('cancels a running job and leaves no process of it', async () => {
    const id = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/slow.yml',
      options: { extraVars: { sleep_seconds: 41 } },
    });
    const stream = readSse(outpost.url, id);
    await until(async () => (await fixtureSleeps(41)).length > 0);
    const { body: running } = await api(outpost.url, 'GET', `/v1/jobs/${id}`);
    expect(running.status).toBe('running');
    const pgid = Number(running.pgid);
    expect(pgid).toBeGreaterThan(1);

    const started = Date.now();
    const cancel = await api(outpost.url, 'POST', `/v1/jobs/${id}/cancel`);
    expect(cancel.status).toBe(202);
    const job = await waitForStatus(outpost.url, id, ['canceled', 'failed', 'successful']);
    expect(job.status).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(8000);
    const entries = await stream;
    expect(entries.at(-1)).toMatchObject({
      type: 'end',
      data: JSON.stringify({ status: 'canceled', reason: 'canceled on request' }),
    });

    expect(await fixtureSleeps(41)).toEqual([]);
    expect(await processesMentioning(path.join(varDir, 'runs', id))).toEqual([]);
    expect([...(await pgidsOf()).values()]).not.toContain(pgid);
    const again = await api(outpost.url, 'POST', `/v1/jobs/${id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('ends a job that runs too long, or goes silent, as timeout and kills it', async () => {
    const long = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/slow.yml',
      options: { extraVars: { sleep_seconds: 43 }, timeoutSeconds: 3 },
    });
    const silent = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/slow.yml',
      options: { extraVars: { sleep_seconds: 44 }, idleTimeoutSeconds: 3 },
    });
    const first = await waitForEnd(outpost.url, long, 30_000);
    const second = await waitForEnd(outpost.url, silent, 30_000);
    expect(first).toMatchObject({
      status: 'timeout',
      reason: "the job's time limit of 3 s ran out (given with the job: options.timeoutSeconds, --timeout)",
    });
    expect(second).toMatchObject({ status: 'timeout', reason: 'no output for 3 s' });
    expect(await fixtureSleeps(43)).toEqual([]);
    expect(await fixtureSleeps(44)).toEqual([]);
  });

  it('starts ansible-playbook with a minimal environment: no secret of the service, no ssh agent', async () => {
    const id = await submit({
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/dump-env.yml',
    });
    const job = await waitForEnd(outpost.url, id);
    expect(job.status, String(job.reason)).toBe('successful');
    const output = (await readSse(outpost.url, id))
      .filter((e) => e.type === 'stdout')
      .map((e) => e.data)
      .join('\n');
    const taskEnv = [...output.matchAll(/^\s+"([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]);
    expect(output).toContain('"task-env:"');
    expect(taskEnv).toEqual(expect.arrayContaining(['PATH', 'HOME', 'ANSIBLE_CONFIG']));
    expect(taskEnv.filter((name) => name?.startsWith('OUTPOST_') && name !== 'OUTPOST_EVENT_FD')).toEqual([]);
    expect(taskEnv).not.toContain('SSH_AUTH_SOCK');
    expect(output).toContain('"msg": "playbook-env: -,-,-"');
    for (const secret of [outpost.token, MASTER_KEY]) expect(output).not.toContain(secret);
  });

  it('keeps run dirs for a while only: one older than OUTPOST_RUNS_KEEP_DAYS (14) is gone, recent ones stay', async () => {
    const runs = await readdir(path.join(varDir, 'runs'));
    expect(runs).not.toContain(OLD_RUN);
    expect(runs.length).toBeGreaterThan(0);
  });

  it('returns the same job for the same idempotency key', async () => {
    const body = {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/ping.yml',
      idempotencyKey: 'deploy-2024-01',
    };
    const first = await api(outpost.url, 'POST', '/v1/jobs', body);
    const second = await api(outpost.url, 'POST', '/v1/jobs', body);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const listed = await api<Record<string, unknown>[]>(
      outpost.url,
      'GET',
      '/v1/jobs?kind=run-playbook&limit=1000',
    );
    expect(listed.body.filter((job) => job.id === first.body.id)).toHaveLength(1);
  });
});

describe('the API refuses what it must', () => {
  const problem = async (
    method: string,
    url: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; field: unknown; detail: unknown; type: string }> => {
    const response = await api(outpost.url, method, url, body, headers);
    expect(response.type).toContain('application/problem+json');
    expect(JSON.stringify(response.body)).not.toMatch(/ at .*\.ts:\d+/);
    return {
      status: response.status,
      field: response.body.field,
      detail: response.body.detail,
      type: response.type,
    };
  };
  const job = { kind: 'run-playbook', hosts: ['localhost'], playbook: 'test/fixtures/playbooks/ping.yml' };

  it('answers 401 without a token or with a wrong one, on every route but /healthz', async () => {
    const health = await fetch(`${outpost.url}/healthz`);
    expect(health.status).toBe(200);
    for (const url of ['/v1/jobs', '/metrics', '/v1/projects', '/v1/nope']) {
      const missing = await fetch(`${outpost.url}${url}`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
      const wrong = await fetch(`${outpost.url}${url}`, {
        headers: { authorization: 'Bearer not-the-token-at-all-000000' },
      });
      expect(wrong.status).toBe(401);
    }
    const post = await fetch(`${outpost.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify(job),
    });
    expect(post.status).toBe(401);
  });

  it('refuses a bad slice size, failure budget, batch or Telegraf version, naming the field and the value', async () => {
    const deploy = { kind: 'deploy-agent', hosts: ['vm1'] };
    const refused = async (options: Record<string, unknown>, kind = deploy.kind) =>
      problem('POST', '/v1/jobs', { ...deploy, kind, ...(kind === 'run-playbook' ? job : {}), options });
    expect(await refused({ maxFailures: 'half' })).toMatchObject({
      status: 400,
      field: 'body.options.maxFailures',
      detail: 'body.options.maxFailures: expected a count of hosts or a percentage such as "10%", got "half"',
    });
    expect(await refused({ maxFailures: '101%' })).toMatchObject({ field: 'body.options.maxFailures' });
    expect(await refused({ serial: ['5%', 'quarter'] })).toMatchObject({
      field: 'body.options.serial.1',
      detail:
        'body.options.serial.1: expected a host count from 1 or a percentage from 1% to 100%, got "quarter"',
    });
    expect(await refused({ sliceSize: 0 })).toMatchObject({ field: 'body.options.sliceSize' });
    expect(await refused({ telegrafVersion: '1.30; rm -rf /' })).toMatchObject({
      field: 'body.options.telegrafVersion',
      detail:
        'body.options.telegrafVersion: expected a package version such as 1.30.2 or 1.30.2-1, got "1.30; rm -rf /"',
    });
    expect(await refused({ maxFailures: 1 }, 'run-playbook')).toMatchObject({
      field: 'body.options.maxFailures',
      detail:
        'body.options.maxFailures: only for deploy-agent, remove-agent, probe, enroll jobs (they run as slices), not for a run-playbook job, got 1',
    });
  });

  it('names the field of wrong types, unknown fields and bad values', async () => {
    expect(await problem('POST', '/v1/jobs', { ...job, kind: 'reboot' })).toMatchObject({
      status: 400,
      field: 'body.kind',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, hosts: 'localhost' })).toMatchObject({
      status: 400,
      field: 'body.hosts',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, hosts: ['Bad Host'] })).toMatchObject({
      status: 400,
      field: 'body.hosts.0',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, color: 'red' })).toMatchObject({
      status: 400,
      field: 'body.color',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, options: { forks: 'many' } })).toMatchObject({
      status: 400,
      field: 'body.options.forks',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, options: { shell: true } })).toMatchObject({
      status: 400,
      field: 'body.options.shell',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, playbook: '../../etc/passwd.yml' })).toMatchObject({
      status: 400,
      field: 'body.playbook',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, playbook: '/etc/ansible/site.yml' })).toMatchObject({
      status: 400,
      field: 'body.playbook',
    });
    const jinja = await problem('POST', '/v1/jobs', {
      ...job,
      options: { extraVars: { x: "{{ lookup('pipe', 'id') }}" } },
    });
    expect(jinja).toMatchObject({ status: 400, field: 'body.options.extraVars.x' });
    expect(
      await problem('POST', '/v1/jobs', {
        ...job,
        options: { extraVars: { ansible_ssh_common_args: '-o x' } },
      }),
    ).toMatchObject({
      status: 400,
      field: 'body.options.extraVars.ansible_ssh_common_args',
    });
    expect(await problem('POST', '/v1/jobs', { ...job, options: { limit: '--syntax-check' } })).toMatchObject(
      {
        status: 400,
        field: 'body.options.limit',
      },
    );
    const secret = await problem('POST', '/v1/jobs', { ...job, credentials: { password: 'x'.repeat(2000) } });
    expect(secret).toMatchObject({ status: 400, field: 'body.credentials.password' });
    expect(String(secret.detail)).not.toContain('xxxx');
    expect(await problem('POST', '/v1/jobs', '{"kind": ')).toMatchObject({ status: 400, field: 'body' });
    expect(await problem('POST', '/v1/jobs', [job])).toMatchObject({ status: 400, field: 'body' });
  });

  it("refuses a job's extra var that would override Outpost's own, naming it, and queues nothing", async () => {
    const before = (await api<unknown[]>(outpost.url, 'GET', '/v1/jobs')).body.length;
    const mallory =
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDFZLf2ESsXUCAdO2LfCt4MjqgEHqJnW775BrT4CH96B mallory';
    const enroll = await problem('POST', '/v1/jobs', {
      kind: 'enroll',
      hosts: ['web-1'],
      credentials: { password: 'pw' },
      options: { extraVars: { cloudroot_authorized_keys: [mallory] } },
    });
    expect(enroll).toMatchObject({ status: 400, field: 'body.options.extraVars.cloudroot_authorized_keys' });
    expect(String(enroll.detail)).toMatch(/^body\.options\.extraVars\.cloudroot_authorized_keys: reserved/);
    const deploy = await problem('POST', '/v1/jobs', {
      kind: 'deploy-agent',
      project: 'shop',
      options: { extraVars: { telegraf_influxdb_urls: ['http://203.0.113.66:8086'] } },
    });
    expect(deploy).toMatchObject({ status: 400, field: 'body.options.extraVars.telegraf_influxdb_urls' });
    const ownPlay = await problem('POST', '/v1/jobs', {
      kind: 'run-playbook',
      hosts: ['web-1'],
      playbook: 'playbooks/enroll.yml',
      options: { extraVars: { cloudroot_authorized_keys: [mallory] } },
    });
    expect(ownPlay).toMatchObject({ status: 400, field: 'body.options.extraVars.cloudroot_authorized_keys' });
    const password = await problem('POST', '/v1/jobs', {
      ...job,
      options: { extraVars: { ansible_become_password: 'hunter2-secret' } },
    });
    expect(password).toMatchObject({ status: 400, field: 'body.options.extraVars.ansible_become_password' });
    expect(String(password.detail)).not.toContain('hunter2');
    expect((await api<unknown[]>(outpost.url, 'GET', '/v1/jobs')).body.length).toBe(before);
  });

  it('refuses an oversized body with 413', async () => {
    const big = { ...job, options: { extraVars: { blob: 'a'.repeat(2_000_000) } } };
    expect(await problem('POST', '/v1/jobs', big)).toMatchObject({ status: 413, field: 'body' });
  });

  it('refuses bad ids, path tricks and bad query values', async () => {
    expect(await problem('GET', '/v1/jobs/Job_1', undefined)).toMatchObject({ status: 400, field: 'id' });
    expect(await problem('GET', '/v1/jobs/..%2F..%2Fetc', undefined)).toMatchObject({
      status: 400,
      field: 'id',
    });
    expect(await problem('GET', '/v1/jobs/job-does-not-exist', undefined)).toMatchObject({ status: 404 });
    expect(await problem('GET', '/v1/jobs?status=sleeping', undefined)).toMatchObject({
      status: 400,
      field: 'query.status',
    });
    expect(await problem('GET', '/v1/jobs?color=red', undefined)).toMatchObject({
      status: 400,
      field: 'query.color',
    });
    expect(
      await problem('GET', '/v1/jobs/job-x/events', undefined, { 'last-event-id': 'abc' }),
    ).toMatchObject({
      status: 400,
      field: 'Last-Event-ID',
    });
    expect(await problem('GET', '/v1/jobs/job-x/log?from=-3', undefined)).toMatchObject({
      status: 400,
      field: 'query.from',
    });
    expect(await problem('POST', '/v1/jobs/bad..id/cancel', undefined)).toMatchObject({
      status: 400,
      field: 'id',
    });
  });

  it('serves its own metrics in the Prometheus text format', async () => {
    const metrics = await api<string>(outpost.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^outpost_jobs\{status="successful"\} \d+$/m);
    expect(metrics.body).toMatch(/^outpost_queue_depth \d+$/m);
    expect(metrics.body).toMatch(/^outpost_log_entries_streamed_total [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^outpost_job_duration_seconds_count\{status="successful"\} [1-9]\d*$/m);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
