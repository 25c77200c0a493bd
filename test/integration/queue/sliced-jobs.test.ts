import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSlot, up, type Lab, type LabVm } from '../../lab/lab.ts';
import { freePort } from '../../support/free-port.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { buildTelegrafDeb } from '../../support/telegraf-deb.ts';
import {
  api,
  outpostCli,
  processesMentioning,
  readSse,
  startOutpost,
  startTunnelsNode,
  waitForEnd,
  type OutpostProcess,
} from '../http/start-outpost.ts';
import { waitFor } from '../ansible/agent-lab.ts';
import { enrollLabProject } from '../inventory/enroll-lab-project.ts';

// Two VPCs of three VMs each. Outpost as three processes on one Redis: api + worker (node A, which also
// runs the embedded influxd the agents write to), a second worker (node B), and a tunnels node holding
// both proxies' uplinks. Each worker runs two jobs at once, so the slices of a job spread over both.
const PROJECT = 'fleet';
const execFileAsync = promisify(execFile);
const UPLINK_PORT = 18086;

let lab: Lab;
let redis: TestRedis;
let varDir: string;
let env: Record<string, string>;
let nodeA: OutpostProcess;
let nodeB: OutpostProcess;
let tunnelsNode: ChildProcess;
let targets: LabVm[];
let packageDir: string;

interface Verdict {
  state: string;
  deploy: string;
  version?: string;
}
interface JobView {
  id: string;
  status: string;
  startedAt?: string;
  endedAt?: string;
  reason?: string;
  hosts?: string[];
  worker?: string;
  retries?: number;
  pgid?: number;
  parent?: string;
  slice?: { index: number; batch: number; label: string; proxy?: string };
  slices?: string[];
  sliceHosts?: number;
  command?: string[];
  result?: Record<string, { failed: number; unreachable: number; agent?: Verdict }>;
}
interface HostView {
  id: string;
  agent: { state: string; version?: string };
}

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-slices-'));
  const [labUp, redisUp, deb] = await Promise.all([
    up({ slot: defaultSlot(), vpcs: 2, vmsPerVpc: 3, directVms: 0 }),
    startRedis(),
    buildTelegrafDeb({ outDir: path.join(varDir, 'packages') }),
  ]);
  lab = labUp;
  redis = redisUp;
  targets = lab.targets();
  packageDir = path.dirname(deb);
  const influxPort = await freePort(lab.controlAddress);
  env = {
    OUTPOST_INFLUX_BIND: lab.controlAddress,
    OUTPOST_INFLUX_PORT: String(influxPort),
    OUTPOST_INFLUX_RPC_PORT: String(await freePort()),
    OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
    OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
    OUTPOST_UPLINK_PORT: String(UPLINK_PORT),
    OUTPOST_UPLINK_WAIT_SECONDS: '30',
    OUTPOST_VERIFY_SECONDS: '60',
    OUTPOST_WORKER_CONCURRENCY: '2',
    // A host not deployed is judged over one window without points: keep it short (points every 10 s).
    OUTPOST_AGENT_FRESH_SECONDS: '30',
  };
  nodeA = await startOutpost({ redisUrl: redis.url, varDir, roles: ['api', 'worker'], name: 'a', env });
  nodeB = await startOutpost({ redisUrl: redis.url, varDir, roles: ['worker'], name: 'b', env });
  tunnelsNode = await startTunnelsNode({ redisUrl: redis.url, varDir, env });

  await enrollLabProject(nodeA.url, lab, PROJECT);
  // Hosts that do not exist: VPC addresses no VM answers on, for the failure budget.
  for (let i = 0; i < 4; i += 1)
    await add('hosts', {
      id: `ghost${i + 1}`,
      project: PROJECT,
      address: `198.51.100.${50 + i}`,
      network: lab.proxies()[0]?.vpcCidr,
    });
}, 300_000);

afterAll(async () => {
  if (tunnelsNode && tunnelsNode.exitCode === null) {
    const exited = new Promise((resolve) => tunnelsNode.once('exit', resolve));
    tunnelsNode.kill('SIGTERM');
    await exited;
  }
  await nodeB?.stop();
  await nodeA?.stop();
  await redis?.stop();
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
}, 120_000);

async function add(kind: string, body: Record<string, unknown>): Promise<void> {
  const response = await api(nodeA.url, 'POST', `/v1/${kind}`, body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const submitted = await api<{ id: string }>(nodeA.url, 'POST', '/v1/jobs', { project: PROJECT, ...body });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  return submitted.body.id;
}

async function job(id: string): Promise<JobView> {
  return (await api<JobView>(nodeA.url, 'GET', `/v1/jobs/${id}`)).body;
}

async function slicesOf(parent: JobView): Promise<JobView[]> {
  return Promise.all((parent.slices ?? []).map((id) => job(id)));
}

async function ended(id: string, timeoutMs = 400_000): Promise<JobView> {
  return (await waitForEnd(nodeA.url, id, timeoutMs)) as unknown as JobView;
}

async function textLog(id: string): Promise<string> {
  return String((await api<string>(nodeA.url, 'GET', `/v1/jobs/${id}/log`)).body);
}

/** Worker id of an `outpost serve` node, from its log. */
async function workerIdOf(node: OutpostProcess): Promise<string> {
  const line = (await readFile(node.logFile, 'utf8')).split('\n').find((l) => l.includes('"worker started"'));
  return (JSON.parse(line ?? '{}') as { worker?: string }).worker ?? '';
}

const realHosts = (): string[] => targets.map((vm) => vm.name);

async function realHostViews(): Promise<HostView[]> {
  const { body } = await api<HostView[]>(nodeA.url, 'GET', `/v1/hosts?project=${PROJECT}`);
  return body.filter((host) => realHosts().includes(host.id));
}

describe('sliced jobs: a job over two VPCs runs as slices on any worker, under one failure budget', () => {
  it('deploys to 6 hosts behind 2 proxies as 4 slices of at most 2: per-host results and one merged, resumable log', async () => {
    const id = await submit({ kind: 'deploy-agent', hosts: realHosts(), options: { sliceSize: 2 } });
    const parent = await ended(id);
    const slices = await slicesOf(parent);
    const log = await textLog(id);
    expect(parent.status, `${parent.reason ?? ''}\n${log.slice(-5000)}`).toBe('successful');
    // Per proxy, then per 2 hosts.
    expect(slices.map((s) => [s.slice?.label, s.hosts?.length, s.status])).toEqual([
      ['vpc1-proxy#1', 2, 'successful'],
      ['vpc1-proxy#2', 1, 'successful'],
      ['vpc2-proxy#3', 2, 'successful'],
      ['vpc2-proxy#4', 1, 'successful'],
    ]);
    expect(slices.every((s) => s.parent === id)).toBe(true);
    expect(parent.sliceHosts).toBe(6);
    // The job list shows what was submitted; a job's slices are listed by parent, in slice order.
    const listed = (await api<JobView[]>(nodeA.url, 'GET', `/v1/jobs?project=${PROJECT}`)).body;
    expect(listed.map((j) => j.id)).toContain(id);
    expect(listed.filter((j) => j.parent !== undefined)).toEqual([]);
    const bySlice = (await api<JobView[]>(nodeA.url, 'GET', `/v1/jobs?parent=${id}`)).body;
    expect(bySlice.map((j) => j.slice?.label)).toEqual(slices.map((s) => s.slice?.label));
    // The parent's result is every slice's hosts, each with its own verdict.
    expect(Object.keys(parent.result ?? {}).sort()).toEqual(realHosts().sort());
    for (const host of realHosts())
      expect(parent.result?.[host]?.agent, host).toMatchObject({ state: 'reporting', deploy: 'applied' });
    // Each host's Telegraf version is recorded: the stand-in package's 1.30.0.
    for (const host of await realHostViews())
      expect(host.agent, host.id).toMatchObject({ state: 'reporting', version: '1.30.0' });

    // The merged log: every slice's lines and events, labelled with the slice, in one sequence.
    const entries = (await readSse(nodeA.url, id)) as {
      seq: number;
      type: string;
      data: string;
      slice?: string;
    }[];
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.at(-1)?.type).toBe('end');
    const labels = new Set(entries.flatMap((e) => (e.slice ? [e.slice] : [])));
    expect([...labels].sort()).toEqual(['vpc1-proxy#1', 'vpc1-proxy#2', 'vpc2-proxy#3', 'vpc2-proxy#4']);
    for (const slice of slices) {
      const own = entries.filter((e) => e.slice === slice.slice?.label);
      // Its play's recap is there, under its label, for its own hosts only.
      const recaps = own
        .filter((e) => e.type === 'event')
        .map((e) => JSON.parse(e.data) as { event: string; host?: string })
        .filter((e) => e.event === 'host_result');
      expect(recaps.length, slice.id).toBeGreaterThan(0);
      expect(new Set(recaps.map((e) => e.host))).toEqual(new Set(slice.hosts));
    }
    // Entries of different slices interleave (they ran at once).
    const order = entries.flatMap((e) => (e.slice ? [e.slice] : []));
    const switches = order.filter((label, i) => i > 0 && label !== order[i - 1]).length;
    expect(switches).toBeGreaterThan(labels.size);
    // Resumable by sequence: from the middle, the rest exactly.
    const middle = Math.floor(entries.length / 2);
    const rest = await readSse(nodeA.url, id, { lastEventId: middle });
    expect(rest).toEqual(entries.slice(middle));
    // The plain log labels each slice's line.
    expect(log).toMatch(/^\[vpc2-proxy#4\] /m);
    expect(log).toContain('outpost: 6 host(s) in 4 slice(s); any worker runs them');

    // `outpost job show` names the slices of the job and how to list them, and the job and place of a slice.
    const shown = await outpostCli(nodeA.url, ['job', 'show', id]);
    expect(shown.stdout).toMatch(
      new RegExp(
        `^slices +4 for 6 host\\(s\\): ${slices.map((s) => s.id).join(', ')} \\(outpost job list --parent ${id}\\)$`,
        'm',
      ),
    );
    const listedByCli = await outpostCli(nodeA.url, ['job', 'list', '--parent', id]);
    expect(
      listedByCli.stdout.split('\n').flatMap((line) => line.match(/ (vpc\d-proxy#\d) /)?.[1] ?? []),
    ).toEqual(slices.map((s) => s.slice?.label));
    const one = await outpostCli(nodeA.url, ['job', 'show', slices[2]?.id ?? '']);
    expect(one.stdout).toMatch(new RegExp(`^slice of +${id} \\(vpc2-proxy#3, batch 1\\)$`, 'm'));

    // Deployed again, each slice takes the fast path for its own hosts: no play anywhere.
    const again = await ended(
      await submit({ kind: 'deploy-agent', hosts: realHosts(), options: { sliceSize: 2 } }),
    );
    expect(again.status, again.reason).toBe('successful');
    for (const host of realHosts())
      expect(again.result?.[host]?.agent, host).toMatchObject({
        state: 'reporting',
        deploy: 'unchanged (fast path)',
      });
    for (const slice of await slicesOf(again)) expect(slice.command, slice.id).toBeUndefined();
  }, 600_000);

  it('cancels every slice with the parent: no process of any slice is left', async () => {
    const id = await submit({
      kind: 'deploy-agent',
      hosts: realHosts(),
      options: { sliceSize: 2, full: true },
    });
    // Wait until plays run: two slices with their ansible-playbook started.
    const running = await waitFor(
      'two slices with a play running',
      async () => {
        const slices = await slicesOf(await job(id));
        const playing = slices.filter((s) => s.status === 'running' && s.pgid !== undefined);
        return playing.length >= 2 ? playing : undefined;
      },
      240_000,
    );
    expect(
      (await processesMentioning(path.join(varDir, 'runs', running[0]?.id ?? ''))).length,
    ).toBeGreaterThan(0);
    const canceled = await api<JobView>(nodeA.url, 'POST', `/v1/jobs/${id}/cancel`);
    expect(canceled.status).toBe(202);
    const parent = await ended(id, 120_000);
    expect(parent.status).toBe('canceled');
    const slices = await slicesOf(parent);
    expect(slices.map((s) => s.status)).toEqual(['canceled', 'canceled', 'canceled', 'canceled']);
    for (const slice of slices)
      expect(await processesMentioning(path.join(varDir, 'runs', slice.id)), slice.id).toEqual([]);
    expect(await processesMentioning(`${id}-s`)).toEqual([]);
  }, 600_000);

  it('runs a slice again on the other worker when its worker is killed, and the job succeeds', async () => {
    const workerB = await workerIdOf(nodeB);
    const id = await submit({
      kind: 'deploy-agent',
      hosts: realHosts(),
      options: { sliceSize: 2, full: true },
    });
    const victim = await waitFor(
      'a slice playing on node B',
      async () => {
        const slices = await slicesOf(await job(id));
        return slices.find((s) => s.status === 'running' && s.worker === workerB && s.pgid !== undefined);
      },
      240_000,
    );
    await nodeB.crash();
    const parent = await ended(id);
    const log = await textLog(id);
    expect(parent.status, `${parent.reason ?? ''}\n${log.slice(-5000)}`).toBe('successful');
    const again = await job(victim.id);
    expect(again).toMatchObject({ status: 'successful', retries: 1 });
    expect(again.worker).not.toBe(workerB);
    expect(log).toMatch(
      new RegExp(
        `slice ${victim.id}: worker ${workerB} .*stopped while the job was running; run again on another worker`,
      ),
    );
    for (const host of realHosts())
      expect(parent.result?.[host]?.agent, host).toMatchObject({ state: 'reporting' });
    // Nothing of the dead run is left: its process group was killed by the node that took over.
    expect(await processesMentioning(path.join(varDir, 'runs', victim.id, 'hosts.yml'))).toEqual([]);
  }, 600_000);

  it('stops at a failure budget of 1: after the second failing host, the remaining slices are not started', async () => {
    const ghosts = ['ghost1', 'ghost2', 'ghost3', 'ghost4'];
    const id = await submit({
      kind: 'deploy-agent',
      hosts: ghosts,
      options: { sliceSize: 1, proxyConcurrency: 1, maxFailures: 1 },
    });
    const parent = await ended(id);
    expect(parent.status).toBe('failed');
    expect(parent.reason).toBe('failure budget exceeded (2 of 4 hosts)');
    const slices = await slicesOf(parent);
    const ran = slices.filter((s) => s.status === 'failed');
    const skipped = slices.filter((s) => s.status === 'canceled');
    expect(ran).toHaveLength(2);
    expect(skipped).toHaveLength(2);
    for (const slice of skipped) {
      expect(slice.reason).toBe('not started: failure budget exceeded (2 of 4 hosts)');
      expect(slice.worker).toBeUndefined();
    }
    // The failed hosts are in the result with why; the hosts never tried are not.
    expect(Object.keys(parent.result ?? {}).sort()).toEqual(ran.flatMap((s) => s.hosts ?? []).sort());
    const log = await textLog(id);
    expect(log).toContain('not started: failure budget exceeded (2 of 4 hosts)');

    // A bad budget is refused at the door, naming the field and the value.
    const refused = await api<{ detail: string }>(nodeA.url, 'POST', '/v1/jobs', {
      kind: 'deploy-agent',
      project: PROJECT,
      options: { maxFailures: 'half' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toBe(
      'body.options.maxFailures: expected a count of hosts or a percentage such as "10%", got "half"',
    );
  }, 600_000);

  it('upgrades every host in two serial batches under the budget, then downgrades: each host’s version recorded', async () => {
    await buildTelegrafDeb({ version: '1.31.0', outDir: packageDir });
    const upgrade = await outpostCli(nodeA.url, [
      'deploy',
      ...realHosts(),
      '--project',
      PROJECT,
      '--telegraf-version',
      '1.31.0',
      '--serial',
      '3',
      '--slice-size',
      '2',
      '--max-failures',
      '0',
      '--follow',
      '--json',
    ]);
    const parent = JSON.parse(upgrade.stdout) as JobView;
    const log = await textLog(parent.id);
    expect(parent.status, `${parent.reason ?? ''}\n${log.slice(-5000)}\n${upgrade.stderr}`).toBe(
      'successful',
    );
    expect(upgrade.code).toBe(0);
    const slices = await slicesOf(parent);
    // Batch 1: VPC 1's three hosts (two slices); batch 2: VPC 2's, started only once batch 1 had ended.
    expect(slices.map((s) => [s.slice?.batch, s.slice?.label, s.hosts?.length])).toEqual([
      [1, 'vpc1-proxy#1', 2],
      [1, 'vpc1-proxy#2', 1],
      [2, 'vpc2-proxy#3', 2],
      [2, 'vpc2-proxy#4', 1],
    ]);
    const first = slices.filter((s) => s.slice?.batch === 1);
    const second = slices.filter((s) => s.slice?.batch === 2);
    const firstEnded = Math.max(...first.map((s) => Date.parse(s.endedAt ?? '')));
    const secondStarted = Math.min(...second.map((s) => Date.parse(s.startedAt ?? '')));
    expect(firstEnded).toBeLessThan(secondStarted);
    expect(log).toContain(
      'outpost: batch 1 of 2 ended within the failure budget (0 of 6 hosts failed); batch 2 starts',
    );
    for (const host of realHosts())
      expect(parent.result?.[host]?.agent, host).toMatchObject({ state: 'reporting', version: '1.31.0' });
    for (const host of await realHostViews()) expect(host.agent.version, host.id).toBe('1.31.0');
    // What a VM runs is what is recorded.
    expect((await lab.exec(targets[5] as LabVm, 'telegraf --version')).stdout).toContain('Telegraf 1.31.0');
    const table = await outpostCli(nodeA.url, ['host', 'list', '--project', PROJECT]);
    expect(table.stdout.split('\n')[0]).toMatch(/AGENT\s+TELEGRAF\s+LASTSEEN/);
    expect(table.stdout).toMatch(new RegExp(`${targets[0]?.name}\\s.*\\sreporting\\s+1\\.31\\.0\\s`));

    const downgrade = await submit({
      kind: 'deploy-agent',
      hosts: realHosts(),
      options: { telegrafVersion: '1.30.0', sliceSize: 3 },
    });
    const back = await ended(downgrade);
    expect(back.status, back.reason).toBe('successful');
    for (const host of await realHostViews()) expect(host.agent.version, host.id).toBe('1.30.0');
    expect((await lab.exec(targets[0] as LabVm, 'telegraf --version')).stdout).toContain('Telegraf 1.30.0');
  }, 900_000);

  it('probes, enrolls and removes as slices too: each host its own result, the password sealed per slice and gone after', async () => {
    const labels = ['vpc1-proxy#1', 'vpc1-proxy#2', 'vpc2-proxy#3', 'vpc2-proxy#4'];
    const probe = await ended(await submit({ kind: 'probe', hosts: realHosts(), options: { sliceSize: 2 } }));
    expect(probe.status, `${probe.reason ?? ''}\n${(await textLog(probe.id)).slice(-3000)}`).toBe(
      'successful',
    );
    expect((await slicesOf(probe)).map((s) => [s.slice?.label, s.status])).toEqual(
      labels.map((label) => [label, 'successful']),
    );
    const probed = probe.result as unknown as Record<string, { probe?: { reach?: string } }>;
    for (const host of realHosts()) expect(probed[host]?.probe?.reach, host).toBe('jump');

    const enroll = await submit({
      kind: 'enroll',
      hosts: realHosts(),
      credentials: { user: lab.user, password: lab.password },
      options: { sliceSize: 2 },
    });
    const enrolled = await ended(enroll);
    const enrollLog = await textLog(enroll);
    expect(enrolled.status, `${enrolled.reason ?? ''}\n${enrollLog.slice(-3000)}`).toBe('successful');
    const enrollSlices = await slicesOf(enrolled);
    expect(enrollSlices.map((s) => [s.slice?.label, s.status])).toEqual(
      labels.map((label) => [label, 'successful']),
    );
    expect(Object.keys(enrolled.result ?? {}).sort()).toEqual(realHosts().sort());
    for (const host of realHosts())
      expect(enrolled.result?.[host], host).toMatchObject({ failed: 0, unreachable: 0 });
    // The password reached every slice (each ran its own play) and is kept nowhere once the job ended.
    expect(enrollLog).not.toContain(lab.password);
    const secrets = await execFileAsync('redis-cli', [
      '-p',
      String(redis.port),
      '--scan',
      '--pattern',
      '*job-secret*',
    ]);
    expect(secrets.stdout.trim()).toBe('');

    const removed = await ended(
      await submit({ kind: 'remove-agent', hosts: realHosts(), options: { sliceSize: 3 } }),
    );
    expect(removed.status, removed.reason).toBe('successful');
    expect((await slicesOf(removed)).map((s) => [s.slice?.label, s.hosts?.length])).toEqual([
      ['vpc1-proxy#1', 3],
      ['vpc2-proxy#2', 3],
    ]);
    for (const host of await realHostViews()) expect(host.agent.state, host.id).toBe('removed');
    for (const vm of targets)
      expect((await lab.sh(vm, 'command -v telegraf || echo gone')).trim(), vm.name).toBe('gone');
  }, 600_000);
});
