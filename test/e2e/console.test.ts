/**
 * The web console in a real Chromium (Debian's, driven by playwright-core) against a real `outpost serve`
 * on the lab, with real Redis, InfluxDB and ansible-playbook. One lab, one serve, one browser for the file;
 * each step builds on the one before, as a person clicking through would. Screenshots of every page in
 * both themes go to var/console-screens/ for a person to look at.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT, startMission, type Mission } from '../../scripts/mission.ts';
import { defaultSlot } from '../lab/lab.ts';
import { launchChromium } from '../support/chromium.ts';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.ts';

const SCREENS = path.resolve(import.meta.dirname, '../../var/console-screens');
const WATCH_SECONDS = 5;
const quiet = { step: () => undefined, command: () => undefined, output: () => undefined };

let mission: Mission;
let relay: TcpRelay;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
let base: string;
let direct: string;
let vpcHost: string;
let deployJob: string;
const consoleErrors: string[] = [];

/** Fetch through the relay as another program would, with the browser's session cookie (or none). */
async function call(method: string, route: string, headers: Record<string, string>, body?: unknown) {
  return fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function sessionCookie(): Promise<string> {
  const cookie = (await browser.context.cookies(base)).find((c) => c.name === 'outpost_session');
  if (!cookie) throw new Error('no session cookie in the browser');
  return `${cookie.name}=${cookie.value}`;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`) });
}

/** The job's stdout as the server keeps it, one entry per line. */
async function serverLines(jobId: string): Promise<string[]> {
  const response = await fetch(`${mission.url}/v1/jobs/${jobId}/log`, {
    headers: { authorization: `Bearer ${mission.token}` },
  });
  const text = await response.text();
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const job = await mission.api<{ id: string }>('POST', '/v1/jobs', body);
  return job.id;
}

describe('the web console in Chromium', () => {
  beforeAll(async () => {
    await mkdir(SCREENS, { recursive: true });
    mission = await startMission({
      slot: defaultSlot(),
      narrator: quiet,
      shape: { vpcs: 1, vmsPerVpc: 1, directVms: 1 },
      // The agent watch often enough that a silent agent shows within the test; silent after 15 s
      // without a point (the agent flushes every 10 s).
      serveEnv: { OUTPOST_WATCH_INTERVAL_SECONDS: String(WATCH_SECONDS), OUTPOST_WATCH_SILENT_SECONDS: '15' },
    });
    const { lab } = mission;
    const [proxy] = lab.proxies();
    const [target] = lab.targets();
    const [directVm] = lab.directs();
    if (!proxy || !target || !directVm) throw new Error('the lab has no proxy, target or direct VM');
    direct = directVm.name;
    vpcHost = target.name;
    await mission.api('POST', '/v1/projects', { id: PROJECT });
    await mission.api('POST', '/v1/proxies', {
      id: proxy.name,
      project: PROJECT,
      publicAddress: proxy.publicAddress,
      vpcAddress: proxy.vpcAddress,
      networks: [proxy.vpcCidr],
    });
    await mission.api('POST', '/v1/hosts', {
      id: vpcHost,
      project: PROJECT,
      address: target.vpcAddress,
      network: target.vpcCidr,
    });
    await mission.api('POST', '/v1/hosts', { id: direct, project: PROJECT, address: directVm.publicAddress });
    relay = await startTcpRelay(Number(new URL(mission.url).port));
    base = relay.url;
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await mission?.stop();
  });

  it('refuses a wrong token, signs in with the right one into an HttpOnly SameSite=Strict cookie', async () => {
    await page.goto(`${base}/fleet?project=${PROJECT}`);
    // The console asks GET /v1/session first ("Loading…"), then shows the sign-in form.
    await page.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
    await shot('sign-in');
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('that token is not valid');
    expect(await browser.context.cookies(base)).toEqual([]);
    consoleErrors.length = 0; // the refused sign-in's 401 is expected

    await page.getByLabel('API token').fill(mission.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    // Back where the person was going, filters kept.
    expect(new URL(page.url()).pathname).toBe('/fleet');
    expect(new URL(page.url()).searchParams.get('project')).toBe(PROJECT);
    const [cookie] = await browser.context.cookies(base);
    expect(cookie).toMatchObject({ name: 'outpost_session', httpOnly: true, sameSite: 'Strict' });
    // The page's scripts cannot read it, and the token is nowhere in the browser.
    expect(await page.evaluate('document.cookie')).toBe('');
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })',
    );
    expect(stored).not.toContain(mission.token);
    expect(page.url()).not.toContain(mission.token);
  });

  it('refuses state changes with the cookie from another origin or without the CSRF token; Bearer works as before', async () => {
    const cookie = await sessionCookie();
    const body = { kind: 'probe', project: PROJECT, hosts: [vpcHost] };
    const foreign = await call('POST', '/v1/jobs', { cookie, origin: 'http://evil.example' }, body);
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { detail: string }).detail).toContain('another site');
    const crossSite = await call('POST', '/v1/jobs', { cookie, 'sec-fetch-site': 'cross-site' }, body);
    expect(crossSite.status).toBe(403);
    const noToken = await call('POST', '/v1/jobs', { cookie, origin: base }, body);
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { detail: string }).detail).toContain('X-CSRF-Token');
    // Reads with the cookie work; nothing was queued by the refused requests.
    const jobs = (await (await call('GET', '/v1/jobs', { cookie })).json()) as unknown[];
    expect(jobs).toEqual([]);
    const bearer = await call('GET', '/v1/hosts', { authorization: `Bearer ${mission.token}` });
    expect(bearer.status).toBe(200);
  });

  it('lists the lab hosts with counts per state, filters by text in the URL', async () => {
    const rows = page.locator('table.hosts tbody tr[data-host]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.locator('[data-count="all"]').textContent()).toBe('2');
    expect(await page.locator('[data-count="none"]').textContent()).toBe('2');
    const row = page.locator(`tr[data-host="${vpcHost}"]`);
    expect(await row.textContent()).toContain(mission.lab.proxies()[0]?.name ?? '?');
    await page.getByLabel('Search').fill(direct);
    await expect.poll(() => rows.count()).toBe(1);
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe(direct);
    await page.getByLabel('Search').fill('');
    await expect.poll(() => rows.count()).toBe(2);
  });

  it('enrolls a VM by password from the Enroll page; the password is cleared and each way tried is shown', async () => {
    await page.getByRole('link', { name: 'Enroll' }).click();
    await page.getByRole('heading', { name: 'Enroll hosts' }).waitFor();
    await page.getByRole('checkbox', { name: new RegExp(vpcHost) }).uncheck();
    await page.getByLabel('User').fill(mission.lab.user);
    const secret = page.locator('#enroll-secret');
    await secret.fill(mission.lab.password);
    await page.getByRole('button', { name: 'Enroll 1 host' }).click();
    await expect.poll(() => secret.inputValue()).toBe('');
    const result = page.locator(`table[aria-label="Result per host"] tr[data-host="${direct}"]`);
    await result.waitFor({ timeout: 180_000 });
    expect(await result.textContent()).toContain('enrolled');
    expect(await result.locator('.ways-list li').count()).toBeGreaterThan(0);
    expect(await page.content()).not.toContain(mission.lab.password);
  });

  it('deploys from the console: the job log follows live to the end, the host panel shows the recap, the fleet updates without a reload', async () => {
    const fleet = await browser.context.newPage();
    await fleet.goto(`${base}/fleet`);
    const state = fleet.locator(`tr[data-host="${direct}"] [data-agent-state]`);
    await expect.poll(() => state.getAttribute('data-agent-state')).toBe('none');
    await fleet.evaluate('window.notReloaded = true');

    await page.goto(`${base}/deploy?project=${PROJECT}&hosts=${direct}`);
    await page.getByRole('button', { name: 'Deploy to 1 host' }).click();
    await page.waitForURL(/\/jobs\/[^/]+$/);
    deployJob = new URL(page.url()).pathname.split('/').pop() ?? '';
    // Live: lines arrive while the job runs.
    await expect
      .poll(() => page.locator('.log').getAttribute('data-lines'), { timeout: 60_000 })
      .not.toBe('0');
    await page.locator('[data-connection="complete"]').waitFor({ timeout: 300_000 });
    await expect
      .poll(() => page.locator('#job-title .badge').textContent(), { timeout: 10_000 })
      .toBe('successful');
    const panel = page.locator(`table.host-status tr[data-host="${direct}"]`);
    expect(Number(await panel.locator('td').nth(1).textContent())).toBeGreaterThan(0); // ok
    expect(await panel.locator('td').nth(3).textContent()).toBe('0'); // failed
    // Every line the server kept is on the page, once, in order.
    const lines = await page.evaluate<string[]>('window.outpostJobLog.lines');
    const kept = await serverLines(deployJob);
    expect(lines).toEqual(kept);
    // Search finds text in lines not on screen (one recap per play: the uplink check and the deploy).
    const recaps = kept.filter((line) => line.startsWith('PLAY RECAP')).length;
    expect(recaps).toBeGreaterThan(0);
    await page.getByLabel('Search the log').fill('play recap');
    await expect.poll(() => page.locator('[data-matches]').getAttribute('data-matches')).toBe(String(recaps));
    await page.getByRole('button', { name: 'Next match' }).click();
    await expect.poll(() => page.locator('.log .line.current mark').count()).toBe(1);
    await shot('job-deploy');

    await expect.poll(() => state.getAttribute('data-agent-state'), { timeout: 30_000 }).toBe('reporting');
    expect(await fleet.evaluate('window.notReloaded')).toBe(true);
    await fleet.close();
  });

  it('shows the host its charts with points read from InfluxDB', async () => {
    await page.goto(`${base}/hosts/${direct}?range=15m`);
    const cpu = page.locator('figure.chart', { hasText: 'CPU used' });
    const memory = page.locator('figure.chart', { hasText: 'Memory used' });
    await expect
      .poll(async () => Number(await cpu.getAttribute('data-points')), { timeout: 60_000 })
      .toBeGreaterThan(0);
    expect(Number(await memory.getAttribute('data-points'))).toBeGreaterThan(0);
    expect(await cpu.locator('canvas').count()).toBe(1);
    expect(await page.locator('[data-agent-state]').getAttribute('data-agent-state')).toBe('reporting');
    expect(await page.getByRole('link', { name: deployJob }).count()).toBe(1);
    await shot('host');
  });

  it('shows a host whose agent stopped as silent with the reason, live, and reporting again once it is back', async () => {
    await page.goto(`${base}/fleet`);
    const row = page.locator(`tr[data-host="${direct}"]`);
    const state = row.locator('[data-agent-state]');
    await expect.poll(() => state.getAttribute('data-agent-state')).toBe('reporting');
    await page.evaluate('window.notReloaded = true');
    const [vm] = mission.lab.directs();
    if (!vm) throw new Error('the lab has no direct VM');
    await mission.lab.sh(vm, 'kill -KILL "$(cat /var/run/telegraf/telegraf.pid)"');
    await expect.poll(() => state.getAttribute('data-agent-state'), { timeout: 60_000 }).toBe('silent');
    await expect.poll(() => row.locator('td.reason').textContent()).toMatch(/^agent not running/);
    expect(await page.locator('[data-count="silent"]').textContent()).toBe('1');
    await shot('fleet-silent');
    await mission.lab.sh(vm, '/etc/init.d/telegraf start');
    await expect.poll(() => state.getAttribute('data-agent-state'), { timeout: 60_000 }).toBe('reporting');
    expect(await row.locator('td.reason').textContent()).toBe('');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
  });

  it("shows a sliced job's slices, links each to its page, and labels their lines in the log", async () => {
    // A rollout in one batch: a sliced job even over one host (its slice is `direct#1`).
    const id = await submit({
      kind: 'deploy-agent',
      project: PROJECT,
      hosts: [direct],
      options: { serial: ['100%'] },
    });
    await page.goto(`${base}/jobs/${id}`);
    await page.locator('[data-connection="complete"]').waitFor({ timeout: 300_000 });
    const row = page.locator('table[aria-label="Slices"] tr[data-slice="direct#1"]');
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 30_000 }).toBe('successful');
    // The page's lines are the plain log's: each slice line under its label.
    const lines = await page.evaluate<string[]>('window.outpostJobLog.lines');
    expect(lines).toEqual(await serverLines(id));
    expect(lines.filter((line) => line.startsWith('[direct#1] ')).length).toBeGreaterThan(0);
    // The jobs list shows what was submitted, not its slices.
    const listed = await mission.api<{ id: string; parent?: string }[]>('GET', `/v1/jobs?project=${PROJECT}`);
    expect(listed.filter((job) => job.parent !== undefined)).toEqual([]);
    await row.getByRole('link').click();
    await page.waitForURL((url) => !url.pathname.endsWith(id));
    await expect.poll(() => page.locator('.job-head').textContent()).toContain(`direct#1 of ${id}`);
  });

  it('keeps the log complete across a dropped connection: resumed with Last-Event-ID, no line missing or twice', async () => {
    const id = await submit({
      kind: 'run-playbook',
      project: PROJECT,
      hosts: [direct],
      playbook: 'test/fixtures/playbooks/trickle.yml',
    });
    await page.goto(`${base}/jobs/${id}`);
    const log = page.locator('.log');
    await expect
      .poll(async () => Number(await log.getAttribute('data-lines')), { timeout: 60_000 })
      .toBeGreaterThan(8);
    const before = relay.accepted();
    relay.dropAll();
    await page.locator('[data-connection="complete"]').waitFor({ timeout: 120_000 });
    expect(relay.accepted()).toBeGreaterThan(before); // it did reconnect
    const lines = await page.evaluate<string[]>('window.outpostJobLog.lines');
    const expected = await serverLines(id);
    expect(lines).toEqual(expected);
    expect(expected.filter((line) => line.includes('"msg": "trickle 39"'))).toHaveLength(1);
  });

  it('cancels a running job from its page', async () => {
    const id = await submit({
      kind: 'run-playbook',
      project: PROJECT,
      hosts: [direct],
      playbook: 'test/fixtures/playbooks/slow.yml',
      options: { extraVars: { sleep_seconds: 600 } },
    });
    await page.goto(`${base}/jobs/${id}`);
    await page.getByLabel('Search the log').fill('sleeping 600');
    await expect
      .poll(() => page.locator('[data-matches]').getAttribute('data-matches'), { timeout: 60_000 })
      .toBe('1');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect
      .poll(() => page.locator('#job-title .badge').textContent(), { timeout: 60_000 })
      .toBe('canceled');
    const job = await mission.api<{ status: string }>('GET', `/v1/jobs/${id}`);
    expect(job.status).toBe('canceled');
  });

  it('renders every page without console errors in both themes', async () => {
    consoleErrors.length = 0;
    const pages: [name: string, route: string, heading: RegExp][] = [
      ['fleet', '/fleet', /Fleet/],
      ['host', `/hosts/${direct}`, /Host/],
      ['proxies', '/proxies', /Proxies/],
      ['enroll', `/enroll?project=${PROJECT}`, /Enroll/],
      ['enroll-script', `/enroll?project=${PROJECT}&way=script`, /Enroll/],
      ['deploy', '/deploy', /Deploy/],
      ['jobs', '/jobs', /Jobs/],
      ['job', `/jobs/${deployJob}`, /deploy-agent/],
    ];
    for (const theme of ['light', 'dark'] as const) {
      await page.evaluate(`localStorage.setItem('outpost-theme', '${theme}')`);
      for (const [name, route, heading] of pages) {
        await page.goto(`${base}${route}`);
        await page.getByRole('heading', { level: 1, name: heading }).waitFor();
        expect(await page.evaluate('document.documentElement.dataset.theme')).toBe(theme);
        await page.waitForTimeout(300); // let the first answers draw before the screenshot
        await shot(`${name}-${theme}`);
      }
    }
    // The enrollment script is shown, ready to copy.
    await page.goto(`${base}/enroll?project=${PROJECT}&way=script`);
    await expect.poll(() => page.getByLabel('Enrollment script').textContent()).toContain('cloudroot');
    // Every control has a name a screen reader can say.
    // (A string, evaluated in the page: this file is type-checked without the DOM library.)
    const unnamed = await page.evaluate<
      string[]
    >(`[...document.querySelectorAll('button, input, select, textarea, a[href]')]
      .filter((el) => !(el.getAttribute('aria-label') || el.innerText.trim() || (el.labels && el.labels.length > 0)))
      .map((el) => el.outerHTML.slice(0, 120))`);
    expect(unnamed).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('signs out: the session ends on the server too', async () => {
    const cookie = await sessionCookie();
    await page.goto(`${base}/fleet`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Outpost' }).waitFor();
    expect(await browser.context.cookies(base)).toEqual([]);
    const replayed = await call('GET', '/v1/hosts', { cookie });
    expect(replayed.status).toBe(401);
  });

  it('limits a viewer token of the project to its project, and offers it no action', async () => {
    // Another tenant, made after the first page loads: neither its host nor its events reach the viewer.
    const viewer = await mission.api<{ token: string }>('POST', '/v1/tokens', {
      name: 'auditor',
      scope: PROJECT,
      role: 'viewer',
    });
    consoleErrors.length = 0;
    await page.goto(`${base}/fleet`);
    await page.getByLabel('API token').fill(viewer.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await mission.api('POST', '/v1/projects', { id: 'other-co' });
    await mission.api('POST', '/v1/hosts', { id: 'other-vm', project: 'other-co', address: '203.0.113.250' });
    const rows = page.locator('table.hosts tbody tr[data-host]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.locator('[data-count="all"]').textContent()).toBe('2');
    expect(await page.locator('tr[data-host="other-vm"]').count()).toBe(0);
    expect(await page.getByLabel('Project').locator('option').allTextContents()).toEqual(['all', PROJECT]);
    expect(await page.locator('[data-role]').textContent()).toBe(`viewer · ${PROJECT}`);
    // No action it would be refused: no job buttons, no Enroll or Deploy, no proxy preparation, no cancel.
    expect(await page.getByRole('group', { name: 'Actions on the selected hosts' }).count()).toBe(0);
    expect(await page.locator('table.hosts').getByRole('checkbox').count()).toBe(0);
    const nav = page.getByRole('navigation', { name: 'Pages' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Fleet', 'Proxies', 'Jobs']);
    await shot('fleet-viewer');
    await page.goto(`${base}/deploy`);
    expect(await page.getByRole('alert').textContent()).toBe(
      'This token is a viewer: it cannot submit jobs.',
    );
    await page.goto(`${base}/proxies`);
    await page
      .locator('article', { hasText: mission.lab.proxies()[0]?.name ?? '?' })
      .first()
      .waitFor();
    expect(await page.getByRole('button', { name: /Prepare/ }).count()).toBe(0);
    await page.goto(`${base}/jobs/${deployJob}`);
    await page.locator('[data-connection="complete"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.log').getAttribute('data-lines')).not.toBe('0');
    expect(await page.getByRole('button', { name: /Cancel|Relaunch/ }).count()).toBe(0);
    expect(consoleErrors).toEqual([]);

    // The server holds the same line whatever the page offers: the cookie with its CSRF token gets 403.
    const cookie = await sessionCookie();
    const { csrf } = (await (await call('GET', '/v1/session', { cookie })).json()) as { csrf: string };
    const refused = await call(
      'POST',
      '/v1/jobs',
      { cookie, origin: base, 'x-csrf-token': csrf },
      { kind: 'probe', project: PROJECT, hosts: [direct] },
    );
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      'this needs the operator role; token "auditor" is a viewer',
    );
    // Its event stream, replayed from the start, holds nothing of the other tenant.
    const controller = new AbortController();
    const stream = await fetch(`${base}/v1/events?after=0-0`, {
      headers: { cookie, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    let text = '';
    setTimeout(() => controller.abort(), 1000);
    try {
      for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>)
        text += Buffer.from(chunk).toString('utf8');
    } catch {
      // Aborted after a second.
    }
    expect(text).toContain(`"project":"${PROJECT}"`);
    expect(text).not.toContain('other-co');
    expect(text).not.toContain('other-vm');
  });
});
