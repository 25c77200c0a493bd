import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import corpus from '../../fixtures/hostile-requests.json' with { type: 'json' };
import type { HostileCase } from '../../fixtures/hostile-requests.generate.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { api, startOutpost, TEST_TOKEN, waitForEnd, type OutpostProcess } from '../http/start-outpost.ts';

const cases = corpus as HostileCase[];
// Every shell, ssh-option, Jinja or YAML-tag payload of the corpus would create this file if it ran.
const canary = path.join(os.tmpdir(), `outpost-canary-${randomBytes(6).toString('hex')}`);

let redis: TestRedis;
let varDir: string;
let outpost: OutpostProcess;

beforeAll(async () => {
  redis = await startRedis();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-hostile-'));
  // api and worker: a request that slipped through would also run, so the canary proves nothing ran.
  outpost = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'hostile' });
  const created = await api(outpost.url, 'POST', '/v1/projects', { id: 'hostile' });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await outpost?.stop();
  await redis?.stop();
  if (varDir) await rm(varDir, { recursive: true, force: true });
  await rm(canary, { force: true });
});

/** Puts the canary path into every placeholder: plain, percent-encoded and double-encoded. */
function arm(text: string): string {
  const once = encodeURIComponent('@CANARY@');
  const twice = encodeURIComponent(once);
  return text
    .replaceAll(twice, encodeURIComponent(encodeURIComponent(canary)))
    .replaceAll(once, encodeURIComponent(canary))
    .replaceAll('@CANARY@', canary);
}

function armValue(value: unknown): unknown {
  if (typeof value === 'string') return arm(value);
  if (Array.isArray(value)) return value.map(armValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [arm(k), armValue(v)]));
  }
  return value;
}

interface Answer {
  name: string;
  status: number;
  type: string;
  field?: unknown;
  detail?: unknown;
  id?: unknown;
}

async function send(c: HostileCase): Promise<Answer> {
  let body: string | undefined;
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}` };
  for (const [name, value] of Object.entries(c.headers ?? {})) headers[name] = arm(value);
  if (c.rawBody !== undefined) body = arm(c.rawBody);
  else if (c.oversizeBytes !== undefined)
    body = JSON.stringify({ id: 'big', kind: 'probe', hosts: ['a'], pad: 'a'.repeat(c.oversizeBytes) });
  else if (c.body !== undefined) body = JSON.stringify(armValue(c.body));
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  const response = await fetch(new URL(arm(c.path), outpost.url), {
    method: c.method,
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: reported by the type check below
  }
  return {
    name: c.name,
    status: response.status,
    type,
    field: parsed.field,
    detail: parsed.detail,
    id: parsed.id,
  };
}

/** The problem names `expected` (after its `body.`/`query.` root), or a field under it. */
function namesField(answer: Answer, expected: string): boolean {
  if (typeof answer.field !== 'string') return false;
  const field = answer.field.replace(/^(body|query)\./, '');
  return field === expected || field.startsWith(`${expected}.`);
}

describe('a corpus of hostile and malformed requests', () => {
  it(`refuses all ${cases.length} with a 4xx problem+json naming the field, stays healthy, and runs nothing`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(cases.filter((c) => c.canary).every((c) => JSON.stringify(c).includes('CANARY'))).toBe(true);
    const findings: string[] = [];
    const accepted: Answer[] = [];
    for (const c of cases) {
      const answer = await send(c);
      const where = `${c.name} -> ${answer.status} ${answer.type} field=${String(answer.field)} ${String(answer.detail)}`;
      if (answer.status < 400) accepted.push(answer);
      if (answer.status < 400 || answer.status >= 500) findings.push(`status: ${where}`);
      else if (c.status !== undefined && answer.status !== c.status)
        findings.push(`status (wanted ${c.status}): ${where}`);
      else if (!answer.type.startsWith('application/problem+json')) findings.push(`type: ${where}`);
      else if (c.field !== undefined && !namesField(answer, c.field))
        findings.push(`field (wanted ${c.field}): ${where}`);
      // A problem quotes the bad value back; it must never carry a stack or a server path.
      if (/ at .*\.ts:\d+|node_modules/.test(String(answer.detail))) findings.push(`stack: ${where}`);
    }
    const health = await fetch(`${outpost.url}/healthz`);
    expect(health.status).toBe(200);
    // Anything that was accepted gets the chance to run before the canary is checked.
    for (const job of accepted.filter((a) => typeof a.id === 'string' && a.id.startsWith('job-')))
      await waitForEnd(outpost.url, String(job.id));
    expect(findings, findings.join('\n')).toEqual([]);
    expect(existsSync(canary), `the canary ${canary} was written: a command ran`).toBe(false);
    expect(await readFile(outpost.logFile, 'utf8')).not.toContain('"request failed"');
  });

  it('passes shell metacharacters in extra-var values to the play as data, never to a shell', async () => {
    // Values are data: they travel in a JSON vars file and reach `command` as one argv word, so a
    // value that looks like a shell command is accepted, printed, and never run.
    const values = [
      '$(touch @CANARY@)',
      ';touch @CANARY@',
      '`touch @CANARY@`',
      '-oProxyCommand=touch @CANARY@',
      '!!python/object/apply:os.system ["touch @CANARY@"]',
      'a\ntouch @CANARY@',
      "a'; touch @CANARY@; '",
    ];
    const ids: string[] = [];
    for (const value of values) {
      const { status, body } = await api(outpost.url, 'POST', '/v1/jobs', {
        kind: 'run-playbook',
        hosts: ['localhost'],
        playbook: 'test/fixtures/playbooks/slow.yml',
        options: { extraVars: { sleep_seconds: arm(value) } },
      });
      expect(status).toBe(202);
      ids.push(String(body.id));
    }
    for (const id of ids) {
      const job = await waitForEnd(outpost.url, id);
      // `sleep` refuses the odd argument: the play fails at the Sleep task, as data would make it.
      expect(job.status).toBe('failed');
      const log = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log`);
      expect(log.body).toContain('"msg": "sleeping ');
      expect(log.body).toContain(canary);
    }
    expect(existsSync(canary), `the canary ${canary} was written: a command ran`).toBe(false);
    expect((await fetch(`${outpost.url}/healthz`)).status).toBe(200);
  });
});
