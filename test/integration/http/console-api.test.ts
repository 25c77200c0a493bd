// The server side of the web console on a real `outpost serve` and Redis: sessions, the event stream,
// the tail of a job log, and the console's files. (The pages themselves: test/e2e/console.test.ts.)
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { TEST_TOKEN, api, startOutpost, waitForEnd, type OutpostProcess } from './start-outpost.ts';

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-console-api-'));
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker'],
    name: 'serve',
    env: { OUTPOST_SESSION_HOURS: '2' },
  });
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
});

/** A request without the bearer token (as the browser makes them). */
function plain(method: string, route: string, headers: Record<string, string> = {}, body?: unknown) {
  return fetch(new URL(route, outpost.url), {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Reads SSE blocks of `route` until `count` events came (or 5 s passed). */
async function readEvents(route: string, headers: Record<string, string>, count: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  const events: { id: string; type: string; data: Record<string, unknown> }[] = [];
  let firstId: string | undefined;
  try {
    const response = await fetch(new URL(route, outpost.url), { headers, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString('utf8');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const id = field('id');
        const data = field('data');
        if (data === undefined) {
          firstId ??= id;
          continue;
        }
        events.push({
          id: id ?? '',
          type: field('event') ?? '',
          data: JSON.parse(data) as Record<string, unknown>,
        });
        if (events.length >= count) return { events, firstId };
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { events, firstId };
}

describe('console sessions', () => {
  let cookie = '';
  let csrf = '';

  it('refuses a wrong token with a clear message and no cookie', async () => {
    const response = await plain('POST', '/v1/session', {}, { token: 'wrong-token' });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    const problem = (await response.json()) as { detail: string };
    expect(problem.detail).toContain('not valid');
    expect(JSON.stringify(problem)).not.toContain('wrong-token');
  });

  it('exchanges the token for an HttpOnly SameSite=Strict cookie that lasts OUTPOST_SESSION_HOURS', async () => {
    const response = await plain('POST', '/v1/session', {}, { token: TEST_TOKEN });
    expect(response.status).toBe(201);
    const header = response.headers.get('set-cookie') ?? '';
    expect(header).toMatch(/^outpost_session=[A-Za-z0-9_-]{43};/);
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Strict');
    expect(header).toContain('Max-Age=7200');
    cookie = header.split(';')[0] ?? '';
    const body = (await response.json()) as { principal: Record<string, string>; csrf: string };
    expect(body.principal).toEqual({ tokenId: 'service', name: 'service token', scope: '*', role: 'admin' });
    expect(JSON.stringify(body)).not.toContain(TEST_TOKEN);
    csrf = body.csrf;
    // The session is in Redis under a hash of the cookie, never the cookie itself.
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    const keys = await client.keys('outpost:session:*');
    await client.quit();
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(cookie.split('=')[1] ?? '?');
  });

  it('reads with the cookie; changes need this origin and the CSRF token; Bearer clients are unchanged', async () => {
    expect((await plain('GET', '/v1/hosts', { cookie })).status).toBe(200);
    const who = (await (await plain('GET', '/v1/session', { cookie })).json()) as { csrf: string };
    expect(who.csrf).toBe(csrf);
    const body = { id: 'console-a' };
    const cases: [Record<string, string>, number, string][] = [
      [{ cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' }, 403, 'another site'],
      [{ cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-site' }, 403, 'another site'],
      [{ cookie, origin: outpost.url }, 403, 'X-CSRF-Token'],
      [{ cookie, 'x-csrf-token': 'guess', origin: outpost.url }, 403, 'X-CSRF-Token'],
    ];
    for (const [headers, status, words] of cases) {
      const response = await plain('POST', '/v1/projects', headers, body);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { detail: string }).detail).toContain(words);
    }
    expect((await api(outpost.url, 'GET', '/v1/projects')).body).toEqual([]);
    const allowed = await plain(
      'POST',
      '/v1/projects',
      { cookie, 'x-csrf-token': csrf, origin: outpost.url, 'sec-fetch-site': 'same-origin' },
      body,
    );
    expect(allowed.status).toBe(201);
    const bearer = await api(outpost.url, 'POST', '/v1/projects', { id: 'console-b' });
    expect(bearer.status).toBe(201);
    // A sign-in posted from another site is refused too.
    expect(
      (await plain('POST', '/v1/session', { origin: 'http://evil.example' }, { token: TEST_TOKEN })).status,
    ).toBe(403);
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const response = await plain('DELETE', '/v1/session', {
      cookie,
      'x-csrf-token': csrf,
      origin: outpost.url,
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('set-cookie')).toContain('outpost_session=;');
    expect((await plain('GET', '/v1/hosts', { cookie })).status).toBe(401);
    expect(await (await plain('GET', '/v1/session', { cookie })).json()).toEqual({ principal: null });
  });
});

describe('GET /v1/events', () => {
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  it('streams registry changes live, and resumes after the Last-Event-ID it was given', async () => {
    const live = readEvents('/v1/events', auth, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api(outpost.url, 'POST', '/v1/hosts', { id: 'ev-1', project: 'console-a', address: '203.0.113.5' });
    await api(outpost.url, 'DELETE', '/v1/hosts/ev-1');
    const { events, firstId } = await live;
    expect(events.map((e) => [e.type, e.data.data])).toEqual([
      ['host', expect.objectContaining({ action: 'created', id: 'ev-1' })],
      ['host', { action: 'deleted', id: 'ev-1' }],
    ]);
    expect(events[0]?.data).toMatchObject({ type: 'host', project: 'console-a' });
    expect(firstId).toMatch(/^\d+-\d+$/);

    // From the first event's id: only what came after it, once.
    const resumed = await readEvents('/v1/events', { ...auth, 'last-event-id': events[0]?.id ?? '' }, 1);
    expect(resumed.events.map((e) => e.id)).toEqual([events[1]?.id]);
    // From the id the stream opened at: both.
    const replay = await readEvents(`/v1/events?after=${firstId ?? ''}`, auth, 2);
    expect(replay.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('names the field of a malformed Last-Event-ID', async () => {
    const response = await plain('GET', '/v1/events', { ...auth, 'last-event-id': 'seven' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { field: string }).field).toBe('Last-Event-ID');
  });
});

describe('the tail of a job log', () => {
  it('?tail=N starts N entries before the end', async () => {
    const { body } = await api(outpost.url, 'POST', '/v1/jobs', {
      kind: 'run-playbook',
      hosts: ['localhost'],
      playbook: 'test/fixtures/playbooks/chatty.yml',
    });
    const id = String(body.id);
    await waitForEnd(outpost.url, id);
    const read = async (query: string) =>
      (
        await (
          await plain('GET', `/v1/jobs/${id}/events${query}`, {
            authorization: `Bearer ${TEST_TOKEN}`,
            accept: 'application/x-ndjson',
          })
        ).text()
      )
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { seq: number; type: string });
    const all = await read('');
    const tail = await read('?tail=3');
    expect(all.length).toBeGreaterThan(60);
    expect(tail).toEqual(all.slice(-3));
    expect(tail.at(-1)?.type).toBe('end');
  });
});

describe('the console files', () => {
  it('serves index.html uncached with a strict CSP for every page path, and nothing for other paths', async () => {
    for (const page of ['/', '/fleet', '/hosts/web-1', '/jobs/job-abc', '/enroll']) {
      const response = await plain('GET', page);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await response.text()).toContain('<div id="app">');
    }
    expect((await plain('GET', '/hosts/Bad_Name')).status).toBe(401);
    expect((await plain('GET', '/assets/nope.js')).status).toBe(401);
  });

  it('serves hashed assets precompressed and cached for a year', async () => {
    const names = await readdir(path.resolve(import.meta.dirname, '../../../dist/web/assets'));
    const script = names.find((name) => /^index-.*\.js$/.test(name));
    expect(script).toBeDefined();
    const gzip = await plain('GET', `/assets/${script}`, { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    const raw = await plain('GET', `/assets/${script}`, { 'accept-encoding': 'identity' });
    expect(raw.headers.get('content-encoding')).toBeNull();
    const brotli = await plain('GET', `/assets/${script}`, { 'accept-encoding': 'gzip, br' });
    expect(brotli.headers.get('content-encoding')).toBe('br');
    // fetch decodes what it was sent: all three are the same script.
    const [a, b, c] = await Promise.all([gzip.text(), raw.text(), brotli.text()]);
    expect(a).toBe(b);
    expect(c).toBe(b);
  });
});
