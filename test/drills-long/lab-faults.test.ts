import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedInfluxd, type EmbeddedInfluxd } from '../../src/metrics/start-embedded-influxd.ts';
import { readTunnelStatus } from '../../src/tunnels/index.ts';
import {
  api,
  processesMentioning,
  startOutpost,
  waitForEnd,
  type OutpostProcess,
} from '../integration/http/start-outpost.ts';
import { descendants, serviceHandles } from '../integration/drills/service-handles.ts';
import { httpStatusFromVm, stopSshd } from '../integration/tunnels/prepare-tunnel-lab.ts';
import { up, type Lab, type LabVm } from '../lab/lab.ts';
import { freePort } from '../support/free-port.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';
import { buildTelegrafDeb } from '../support/telegraf-deb.ts';
import { enrollLabProject } from '../integration/inventory/enroll-lab-project.ts';

// Fault drills on the whole service against the lab: one VPC (a proxy, two VMs) and a direct VM; Outpost
// with every role in one process; an InfluxDB this test can stop and start again on the same port and data.
const run = promisify(execFile);
const slot = Number(process.env.OUTPOST_LAB_SLOT ?? 0);
const PROJECT = 'drills';
const UPLINK_PORT = 18086;

let lab: Lab;
let redis: TestRedis;
let reader: Redis;
let outpost: OutpostProcess;
let varDir: string;
let influx: EmbeddedInfluxd | undefined;
let influxPort: number;
let influxRpcPort: number;
let proxy: LabVm;
let targets: LabVm[];
let direct: LabVm;

interface HostView {
  id: string;
  agent: { state: string; uplink?: string; reason?: string };
}
interface JobView {
  id: string;
  status: string;
  reason?: string;
  result?: Record<string, { unreachable?: number; failed?: number; msg?: string; agent?: { state: string } }>;
}

async function startInflux(): Promise<void> {
  influx = await startEmbeddedInfluxd({
    dir: path.join(varDir, 'influx'),
    bindAddress: lab.controlAddress,
    port: influxPort,
    rpcPort: influxRpcPort,
  });
  await fetch(`${influx.url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: 'CREATE DATABASE telegraf' }),
  });
}

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-drills-'));
  const [labUp, redisUp, deb] = await Promise.all([
    up({ slot, vpcs: 1, vmsPerVpc: 2, directVms: 1 }),
    startRedis(),
    buildTelegrafDeb({ outDir: path.join(varDir, 'packages') }),
  ]);
  lab = labUp;
  redis = redisUp;
  reader = new Redis(redis.url);
  proxy = lab.proxies()[0] as LabVm;
  targets = lab.targets('vpc1');
  direct = lab.directs()[0] as LabVm;
  influxPort = await freePort(lab.controlAddress);
  influxRpcPort = await freePort();
  await startInflux();
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker', 'tunnels'] as ('api' | 'worker')[],
    name: 'drills',
    env: {
      OUTPOST_INFLUX_URL: `http://${lab.controlAddress}:${influxPort}`,
      OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
      OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
      OUTPOST_UPLINK_PORT: String(UPLINK_PORT),
      OUTPOST_UPLINK_WAIT_SECONDS: '20',
      OUTPOST_VERIFY_SECONDS: '30',
    },
  });
  await enrollLabProject(outpost.url, lab, PROJECT);
}, 300_000);

afterAll(async () => {
  await run('ip', ['link', 'set', `ol${slot}p0`, 'up']).catch(() => undefined);
  await outpost?.stop();
  await influx?.stop();
  reader?.disconnect();
  await redis?.stop();
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
}, 120_000);

async function submit(body: Record<string, unknown>): Promise<string> {
  const submitted = await api<{ id: string }>(outpost.url, 'POST', '/v1/jobs', body);
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  return submitted.body.id;
}

async function finished(id: string): Promise<JobView> {
  return (await waitForEnd(outpost.url, id, 240_000)) as unknown as JobView;
}

async function hosts(): Promise<Map<string, HostView>> {
  const { body } = await api<HostView[]>(outpost.url, 'GET', `/v1/hosts?project=${PROJECT}`);
  return new Map(body.map((host) => [host.id, host]));
}

async function logOf(id: string): Promise<string> {
  const { body } = await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log`);
  return String(body);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return Date.now() - start;
}

async function uplinkState(): Promise<string | undefined> {
  return (await readTunnelStatus(reader, 'outpost:', proxy.name))?.forwards[0]?.state;
}

/** The service's TCP connections to the proxy's sshd, from `ss`. */
async function connectionsToProxy(pid: number): Promise<number> {
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', 'dst', `${proxy.publicAddress}:22`]);
  return stdout.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
}

describe('fault drills against the lab', () => {
  let baseline: Awaited<ReturnType<typeof serviceHandles>>;

  it('deploys to every host first: all report', async () => {
    const job = await finished(await submit({ kind: 'deploy-agent', project: PROJECT }));
    expect(job.status, `${job.reason ?? ''}\n${(await logOf(job.id)).slice(-4000)}`).toBe('successful');
    for (const host of (await hosts()).values()) expect(host.agent.state, host.id).toBe('reporting');
    baseline = await serviceHandles(outpost.child.pid as number);
  }, 300_000);

  it('InfluxDB stops during a deploy: the job fails, every host is not-reporting with the reason; back when it returns', async () => {
    // --full: every host is right after the first deploy, and the fast path would run no play to interrupt.
    const id = await submit({ kind: 'deploy-agent', project: PROJECT, options: { full: true } });
    // Stopped once the deploy play itself runs (uplinks checked, Telegraf being installed or configured).
    await until('the deploy play runs', async () => /TASK \[telegraf/.test(await logOf(id)), 180_000);
    await influx?.stop();
    influx = undefined;
    try {
      const job = await finished(id);
      expect(job.status).toBe('failed');
      // The deploy's verdict names each host it could not finish and why.
      expect(job.reason).toMatch(/^not deployed and reporting: /);
      const seen = await hosts();
      for (const vm of [...targets, direct]) {
        const agent = seen.get(vm.name)?.agent;
        expect(agent?.state, vm.name).toBe('not-reporting');
        expect(agent?.reason, vm.name).toBeTruthy();
        expect(job.reason).toContain(vm.name);
      }
      console.log(`influx drill: job reason: ${job.reason ?? ''}`);
      expect((await fetch(`${outpost.url}/healthz`)).status).toBe(200);
    } finally {
      // Back for the drills after this one, whatever the checks above found.
      await startInflux();
    }
    const again = await finished(await submit({ kind: 'deploy-agent', project: PROJECT }));
    expect(again.status, `${again.reason ?? ''}\n${(await logOf(again.id)).slice(-4000)}`).toBe('successful');
    for (const host of (await hosts()).values()) expect(host.agent.state, host.id).toBe('reporting');
    expect(await processesMentioning(path.join(varDir, 'runs'))).toEqual([]);
  }, 600_000);

  it('a run-playbook through a proxy whose sshd is dead fails unreachable naming the proxy, and works once sshd is back', async () => {
    const body = {
      kind: 'run-playbook',
      hosts: [targets[0]?.name],
      playbook: 'test/fixtures/playbooks/ping.yml',
    };
    let failed: JobView;
    try {
      await stopSshd(lab, proxy);
      failed = await finished(await submit(body));
    } finally {
      await lab.sh(proxy, '/usr/sbin/sshd');
    }
    const log = await logOf(failed.id);
    expect(failed.status).toBe('failed');
    expect(failed.result?.[targets[0]?.name as string]?.unreachable).toBeGreaterThan(0);
    console.log(`sshd drill: job reason: ${failed.reason ?? ''}`);
    // ssh's own line says only "kex_exchange_identification: Connection closed": the job names the proxy.
    expect(`${failed.reason ?? ''}\n${JSON.stringify(failed.result)}`, log.slice(-3000)).toContain(
      proxy.name,
    );
    expect(await processesMentioning(path.join(varDir, 'runs', failed.id))).toEqual([]);

    const ok = await finished(await submit(body));
    expect(ok.status, `${ok.reason ?? ''}\n${(await logOf(ok.id)).slice(-3000)}`).toBe('successful');
    expect(await processesMentioning(path.join(varDir, 'runs'))).toEqual([]);
  }, 300_000);

  it('a 60 s cut of the proxy link: the uplink goes down, comes back by itself, metrics flow again, nothing leaks', async () => {
    const pid = outpost.child.pid as number;
    await until('the uplink is up', async () => (await uplinkState()) === 'up', 60_000);
    const veth = `ol${slot}p0`;
    const cutAt = Date.now();
    await run('ip', ['link', 'set', veth, 'down']);
    let noticedMs: number;
    try {
      noticedMs = await until('the uplink is seen down', async () => (await uplinkState()) !== 'up', 45_000);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 60_000 - (Date.now() - cutAt))));
    } finally {
      await run('ip', ['link', 'set', veth, 'up']);
    }
    const backMs = await until('the uplink is back', async () => (await uplinkState()) === 'up', 60_000);
    const target = targets[0] as LabVm;
    await until(
      'a VPC VM reaches InfluxDB through the uplink',
      async () =>
        (await httpStatusFromVm(lab, target, `http://${proxy.vpcAddress}:${UPLINK_PORT}/ping`)) === '204',
      30_000,
    );
    console.log(
      `link drill (60 s): uplink seen down after ${noticedMs} ms, back ${backMs} ms after the link returned`,
    );
    const probe = await finished(await submit({ kind: 'deploy-agent', project: PROJECT }));
    expect(probe.status, probe.reason).toBe('successful');
    // Exactly one connection to the proxy, the same listeners, no child process left behind.
    await until('one connection to the proxy', async () => (await connectionsToProxy(pid)) === 1, 30_000);
    const after = await serviceHandles(pid);
    expect(after.listeners).toEqual(baseline.listeners);
    expect(await descendants(pid)).toEqual(baseline.children);
  }, 600_000);
});
