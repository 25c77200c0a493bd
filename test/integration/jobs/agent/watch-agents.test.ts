import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchPayload } from '../../../../src/jobs/agent/build-watch-payload.ts';
import { defaultSlot, up, type Lab, type LabVm } from '../../../lab/lab.ts';
import { freePort } from '../../../support/free-port.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';
import { buildTelegrafDeb } from '../../../support/telegraf-deb.ts';
import {
  api,
  outpostCli,
  startOutpost,
  TEST_TOKEN,
  waitForEnd,
  type OutpostProcess,
} from '../../http/start-outpost.ts';
import { stopSshd } from '../../tunnels/prepare-tunnel-lab.ts';
import { enrollLabProject } from '../../inventory/enroll-lab-project.ts';

// One VPC (a proxy and two VMs) and one direct VM, each running the agent (points every 10 s, the
// role's default); Outpost as one process (api, worker, tunnels) with the watch every 15 s, heal on for
// the project, and a webhook receiver on loopback that refuses its first POST (the retry must deliver it).
const PROJECT = 'watched';
const WATCH_SECONDS = 15;
const UPLINK_PORT = 18086;
const HOOK_PATH = '/hooks/s3cr3t-path-token';
const HOOK_PASSWORD = 'hook-pa55word';

let lab: Lab;
let redis: TestRedis;
let outpost: OutpostProcess;
let varDir: string;
let proxy: LabVm;
let vm1: LabVm;
let vm2: LabVm;
let direct: LabVm;
let hook: http.Server;
let streamStart: string;
/** Every POST the receiver got: the answer it gave, its Authorization header, the payload. */
const posts: { status: number; authorization: string | undefined; path: string; payload: WatchPayload }[] =
  [];

interface HostView {
  id: string;
  agent: { state: string; reason?: string; cause?: string; since?: string; lastSeen?: string };
}

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-watch-'));
  const [labUp, redisUp, deb] = await Promise.all([
    up({ slot: defaultSlot(), vpcs: 1, vmsPerVpc: 2, directVms: 1 }),
    startRedis(),
    buildTelegrafDeb({ outDir: path.join(varDir, 'packages') }),
  ]);
  lab = labUp;
  redis = redisUp;
  proxy = lab.proxies()[0] as LabVm;
  [vm1, vm2] = lab.targets('vpc1') as [LabVm, LabVm];
  direct = lab.directs()[0] as LabVm;

  hook = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const status = posts.length === 0 ? 503 : 200;
      posts.push({
        status,
        authorization: request.headers.authorization,
        path: request.url ?? '',
        payload: JSON.parse(body) as WatchPayload,
      });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookPort = (hook.address() as AddressInfo).port;

  const influxPort = await freePort(lab.controlAddress);
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker', 'tunnels'],
    name: 'watch',
    env: {
      OUTPOST_INFLUX_BIND: lab.controlAddress,
      OUTPOST_INFLUX_PORT: String(influxPort),
      OUTPOST_INFLUX_RPC_PORT: String(await freePort()),
      OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
      OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
      OUTPOST_UPLINK_PORT: String(UPLINK_PORT),
      OUTPOST_UPLINK_WAIT_SECONDS: '20',
      OUTPOST_VERIFY_SECONDS: '40',
      OUTPOST_WATCH_INTERVAL_SECONDS: String(WATCH_SECONDS),
      OUTPOST_WATCH_WEBHOOK_URL: `http://outpost:${HOOK_PASSWORD}@127.0.0.1:${hookPort}${HOOK_PATH}`,
      OUTPOST_WATCH_HEAL: PROJECT,
    },
  });

  await enrollLabProject(outpost.url, lab, PROJECT);
  // A second tenant, to show its viewer sees none of this project's transitions.
  expect((await api(outpost.url, 'POST', '/v1/projects', { id: 'other' })).status).toBe(201);
  streamStart = await lastEventId();

  const submitted = await api<{ id: string }>(outpost.url, 'POST', '/v1/jobs', {
    kind: 'deploy-agent',
    project: PROJECT,
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  const job = await waitForEnd(outpost.url, submitted.body.id, 240_000);
  expect(job.status, String(job.reason)).toBe('successful');
}, 300_000);

afterAll(async () => {
  await outpost?.stop();
  await new Promise((resolve) => (hook ? hook.close(resolve) : resolve(undefined)));
  await redis?.stop();
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
}, 120_000);

async function hosts(): Promise<Map<string, HostView>> {
  const { body } = await api<HostView[]>(outpost.url, 'GET', `/v1/hosts?project=${PROJECT}`);
  return new Map(body.map((host) => [host.id, host]));
}

/** Polls the API until `check` holds for the hosts; resolves to them. */
async function waitForHosts(
  what: string,
  check: (seen: Map<string, HostView>) => boolean,
  timeoutMs: number,
): Promise<Map<string, HostView>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await hosts();
    if (check(seen)) return seen;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s; hosts: ${JSON.stringify([...seen.values()])}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const stateOf = (seen: Map<string, HostView>, vm: LabVm): string | undefined =>
  seen.get(vm.name)?.agent.state;

/** Accepted webhook alerts as `host status`, in the order they arrived. */
function delivered(): string[] {
  return posts
    .filter((post) => post.status === 200)
    .flatMap((post) => post.payload.alerts.map((alert) => `${alert.labels.host} ${alert.status}`));
}

async function lastEventId(): Promise<string> {
  return (await readEvents('/v1/events', TEST_TOKEN, () => true, 5000)).startId;
}

/**
 * Reads GET `route` as SSE with `token` until `enough` holds for the events read (or `ms` passed); the
 * id the stream opened at, and each event's id, type and body.
 */
async function readEvents(
  route: string,
  token: string,
  enough: (events: { id: string; type: string; data: Record<string, unknown> }[]) => boolean,
  ms: number,
  headers: Record<string, string> = {},
): Promise<{ startId: string; events: { id: string; type: string; data: Record<string, unknown> }[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const events: { id: string; type: string; data: Record<string, unknown> }[] = [];
  let startId = '';
  try {
    const response = await fetch(new URL(route, outpost.url), {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, cut).split('\n');
        buffer = buffer.slice(cut + 2);
        const id = lines.find((line) => line.startsWith('id: '))?.slice(4) ?? '';
        const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
        if (data === undefined) startId ||= id;
        else
          events.push({
            id,
            type: String(lines.find((l) => l.startsWith('event: '))?.slice(7)),
            data: JSON.parse(data) as Record<string, unknown>,
          });
        if (startId !== '' && enough(events)) return { startId, events };
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { startId, events };
}

describe('the agent watch', () => {
  it('flags a VM whose agent was killed silent, "agent not running", within 2 watch intervals; heal redeploys it once and it reports again', async () => {
    const before = await hosts();
    for (const vm of [vm1, vm2, direct]) expect(stateOf(before, vm), vm.name).toBe('reporting');

    await lab.sh(vm1, 'kill -KILL "$(cat /var/run/telegraf/telegraf.pid)"');
    const killedAt = Date.now();
    const seen = await waitForHosts(
      'vm1 silent',
      (s) => stateOf(s, vm1) === 'silent',
      4 * WATCH_SECONDS * 1000,
    );
    const agent = seen.get(vm1.name)?.agent;
    expect(agent?.cause).toBe('agent-not-running');
    expect(agent?.reason).toMatch(/^agent not running/);
    const flaggedAfter = Date.parse(agent?.since ?? '') - killedAt;
    console.info(
      `watch: ${vm1.name} flagged silent ${flaggedAfter} ms after its agent was killed (interval ${WATCH_SECONDS} s)`,
    );
    expect(flaggedAfter).toBeLessThanOrEqual(2 * WATCH_SECONDS * 1000);
    expect(stateOf(seen, vm2)).toBe('reporting');
    expect(stateOf(seen, direct)).toBe('reporting');

    // What a person sees: the CLI's table and host view say silent and why.
    const table = await outpostCli(outpost.url, ['host', 'list', '--project', PROJECT]);
    expect(table.stdout).toMatch(new RegExp(`^${vm1.name}\\s.*\\ssilent\\s.*agent not running`, 'm'));
    const shown = await outpostCli(outpost.url, ['host', 'show', vm1.name]);
    expect(shown.stdout).toMatch(/agent\s+silent since \d{4}-.*, last point \d{4}-/);
    expect(shown.stdout).toMatch(/reason\s+agent not running/);

    // Heal: the VM answered, so the watch redeployed it (one job, this host only) and it reports again.
    const back = await waitForHosts('vm1 reporting again', (s) => stateOf(s, vm1) === 'reporting', 240_000);
    expect(back.get(vm1.name)?.agent.reason).toBeUndefined();
    const { body: jobs } = await api<{ id: string; hosts?: string[] }[]>(
      outpost.url,
      'GET',
      `/v1/jobs?project=${PROJECT}&kind=deploy-agent`,
    );
    const heals = jobs.filter((job) => job.hosts?.join() === vm1.name);
    expect(heals).toHaveLength(1);
    // The host reports once the deploy proved it; the job ends just after.
    expect((await waitForEnd(outpost.url, heals[0]?.id ?? '', 60_000)).status).toBe('successful');
    expect((await lab.exec(vm1, '/etc/init.d/telegraf status')).exitCode).toBe(0);
  }, 400_000);

  it('flags the VMs behind a proxy whose sshd stopped silent naming the proxy; the direct VM goes on; both recover when it is back', async () => {
    await waitForHosts('webhook of the first transitions', () => delivered().length >= 2, 60_000);
    try {
      await stopSshd(lab, proxy);
      const seen = await waitForHosts(
        'both VPC VMs silent',
        (s) => stateOf(s, vm1) === 'silent' && stateOf(s, vm2) === 'silent',
        5 * WATCH_SECONDS * 1000,
      );
      for (const vm of [vm1, vm2]) {
        const agent = seen.get(vm.name)?.agent;
        expect(['tunnel-down', 'proxy-unreachable']).toContain(agent?.cause);
        expect(agent?.reason, vm.name).toContain(proxy.name);
        console.info(`watch: ${vm.name} silent: ${agent?.reason ?? ''}`);
      }
      expect(stateOf(seen, direct)).toBe('reporting');
    } finally {
      await lab.sh(proxy, '/usr/sbin/sshd');
    }
    // The tunnel node reconnects on its own; points flow again; the watch sees them.
    const back = await waitForHosts(
      'both VPC VMs reporting again',
      (s) => stateOf(s, vm1) === 'reporting' && stateOf(s, vm2) === 'reporting',
      180_000,
    );
    for (const vm of [vm1, vm2]) expect(back.get(vm.name)?.agent.cause).toBeUndefined();
  }, 400_000);

  it('POSTed each transition and each recovery to the webhook exactly once, as Alertmanager alerts, never logging its secrets', async () => {
    const expected = [
      `${vm1.name} firing`,
      `${vm1.name} resolved`,
      `${vm1.name} firing`,
      `${vm2.name} firing`,
      `${vm1.name} resolved`,
      `${vm2.name} resolved`,
    ];
    await waitForHosts('every delivery', () => delivered().length >= expected.length, 60_000);
    // One more watch interval: nothing is sent twice.
    await new Promise((resolve) => setTimeout(resolve, WATCH_SECONDS * 1000));
    const got = delivered();
    expect(got.slice(0, 2)).toEqual(expected.slice(0, 2));
    expect(got.slice(2, 4).sort()).toEqual(expected.slice(2, 4).sort());
    expect(got.slice(4).sort()).toEqual(expected.slice(4).sort());
    // The first POST was refused (503): the same message came again, and was then accepted.
    expect(posts[0]?.status).toBe(503);
    expect(posts[1]?.payload).toEqual(posts[0]?.payload);
    for (const post of posts) {
      expect(post.path).toBe(HOOK_PATH);
      expect(post.authorization).toBe(`Basic ${Buffer.from(`outpost:${HOOK_PASSWORD}`).toString('base64')}`);
    }
    const firing = posts[0]?.payload;
    expect(firing).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'outpost',
      groupLabels: { alertname: 'OutpostAgentSilent', project: PROJECT },
      commonLabels: { alertname: 'OutpostAgentSilent', project: PROJECT, host: vm1.name, proxy: proxy.name },
      alerts: [
        {
          status: 'firing',
          labels: { host: vm1.name, project: PROJECT, proxy: proxy.name },
          annotations: { cause: 'agent-not-running' },
          endsAt: '0001-01-01T00:00:00Z',
        },
      ],
    });
    expect(firing?.text).toContain(`${vm1.name}: agent silent since`);
    const resolved = posts.find((post) => post.payload.status === 'resolved')?.payload.alerts[0];
    expect(resolved?.fingerprint).toBe(firing?.alerts[0]?.fingerprint);
    expect(Date.parse(resolved?.endsAt ?? '')).toBeGreaterThan(Date.parse(resolved?.startsAt ?? ''));
    // The proxy's hosts: the proxy named in the alert's words.
    const proxyAlert = posts.flatMap((p) => p.payload.alerts).find((a) => a.labels.host === vm2.name);
    expect(proxyAlert?.annotations.description).toContain(proxy.name);

    const log = await readFile(outpost.logFile, 'utf8');
    expect(log).toContain('watch webhook not delivered');
    expect(log).not.toContain('s3cr3t-path-token');
    expect(log).not.toContain(HOOK_PASSWORD);
  }, 120_000);

  it('streamed the transitions on GET /v1/events, resumable, and only to readers of the project', async () => {
    const isAgent = (e: { type: string }) => e.type === 'agent';
    const { events } = await readEvents(
      `/v1/events?after=${streamStart}`,
      TEST_TOKEN,
      (read) => read.filter((e) => isAgent(e) && (e.data.data as { to: string }).to === 'silent').length >= 3,
      10_000,
    );
    const watchEvents = events
      .filter(isAgent)
      .map(
        (e) =>
          e.data.data as { host: string; from: string | null; to: string; cause?: string; since?: string },
      )
      .filter((data) => data.to === 'silent' || data.from === 'silent');
    expect(watchEvents[0]).toMatchObject({
      host: vm1.name,
      from: 'reporting',
      to: 'silent',
      cause: 'agent-not-running',
    });
    expect(watchEvents[0]?.since).toMatch(/^\d{4}-/);
    expect(
      watchEvents
        .filter((e) => e.to === 'silent')
        .map((e) => e.host)
        .sort(),
    ).toEqual([vm1.name, vm1.name, vm2.name].sort());
    // Resumed after the first silent event: it does not come again.
    const first = events.find((e) => isAgent(e) && (e.data.data as { to: string }).to === 'silent');
    const resumed = await readEvents('/v1/events', TEST_TOKEN, (read) => read.length > 0, 5000, {
      'last-event-id': first?.id ?? '',
    });
    expect(resumed.events[0]?.id).toBe(events[events.indexOf(first as (typeof events)[number]) + 1]?.id);

    // A viewer of another project sees none of them.
    const made = await api<{ token: string }>(outpost.url, 'POST', '/v1/tokens', {
      name: 'other-viewer',
      scope: 'other',
      role: 'viewer',
    });
    expect(made.status).toBe(201);
    const foreign = await readEvents(`/v1/events?after=${streamStart}`, made.body.token, () => false, 3000);
    expect(foreign.events.filter((e) => e.data.project === PROJECT)).toEqual([]);
  }, 60_000);
});
