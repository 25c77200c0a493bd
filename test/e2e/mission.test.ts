/**
 * The mission end to end, as `npm run demo` runs it (scripts/mission.ts): through the CLI and the
 * HTTP API, against lab VMs in two VPCs (one of them a RedHat-family simulation) and a direct VM, with
 * real sshd, ansible-playbook, Redis, InfluxDB and the tunnel keeper. Then what an operator sees on a
 * second deploy and when a proxy dies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../src/domain/host.ts';
import type { JobRecord } from '../../src/queue/job-record.ts';
import {
  latestMetrics,
  PROJECT,
  runMissionSteps,
  startMission,
  type Mission,
  type Narrator,
} from '../../scripts/mission.ts';
import { defaultSlot } from '../lab/lab.ts';
import { stopSshd } from '../integration/tunnels/prepare-tunnel-lab.ts';

const transcript: string[] = [];
const narrator: Narrator = {
  step: (title) => transcript.push(`## ${title}`),
  command: (line) => transcript.push(`$ ${line}`),
  output: (text) => transcript.push(text),
};
let mission: Mission;

type HostView = Host & { metrics?: { lastSeen: string | null } };

async function hosts(): Promise<Map<string, HostView>> {
  const list = await mission.api<HostView[]>('GET', `/v1/hosts?project=${PROJECT}`);
  return new Map(list.map((host) => [host.id, host]));
}

async function runJob(body: Record<string, unknown>): Promise<JobRecord> {
  const created = await mission.api<JobRecord>('POST', '/v1/jobs', body);
  for (;;) {
    const job = await mission.api<JobRecord>('GET', `/v1/jobs/${created.id}`);
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  mission = await startMission({ slot: defaultSlot(), narrator });
});
afterAll(async () => {
  await mission?.stop();
});

describe('the mission', () => {
  it('takes an empty registry to every host reporting, through the CLI', async () => {
    try {
      await runMissionSteps(mission, narrator);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${transcript.slice(-40).join('\n')}`);
    }
    const view = await hosts();
    expect([...view.keys()].sort()).toEqual(mission.hostIds().sort());
    for (const [id, host] of view) {
      expect(host.login.state, id).toBe('enrolled');
      expect(host.agent.state, id).toBe('reporting');
      expect(host.metrics?.lastSeen, id).toBeTruthy();
    }
    expect(view.get('vpc1-vm1')?.login.way).toBe('password');
    expect(view.get('vpc1-vm2')?.login.way).toBe('key');
    expect(view.get('vpc2-vm1')?.login.way).toBe('script');
    expect(view.get('direct1')?.agent.uplink).toBe('direct');
    expect(view.get('vpc2-vm2')?.agent.uplink).toBe('proxy');
    // A mixed fleet: the RedHat-family simulation behind vpc1's Debian proxy got the .rpm through the uplink.
    expect(view.get('vpc1-rh1')?.facts).toMatchObject({ os: 'Rocky 9.4', family: 'RedHat' });
    expect(view.get('vpc1-rh1')?.agent.uplink).toBe('proxy');
    expect(view.get('vpc1-vm1')?.facts?.family).toBe('Debian');
    expect(await mission.lab.sh('vpc1-rh1', "rpm -q --qf '%{NAME}-%{VERSION}' telegraf")).toBe(
      'telegraf-1.30.0',
    );
  });

  it('finds real points of every host in InfluxDB, carrying its host, project and network tags', async () => {
    const metrics = await latestMetrics(mission.influxUrl);
    for (const vm of [...mission.lab.targets(), ...mission.lab.directs()]) {
      const point = metrics[vm.name];
      expect(point, vm.name).toBeDefined();
      expect(point?.project).toBe(PROJECT);
      if (vm.vpcCidr !== undefined) expect(point?.network).toBe(vm.vpcCidr);
      expect(typeof point?.n_cpus).toBe('number');
      expect(Date.now() - Date.parse(String(point?.time))).toBeLessThan(120_000);
    }
  });

  it('changes nothing on a second deploy, and still verifies every host', async () => {
    const job = await runJob({ kind: 'deploy-agent', project: PROJECT });
    expect(job.status, job.reason).toBe('successful');
    for (const id of mission.hostIds()) {
      expect(job.result?.[id], id).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
    }
    for (const [id, host] of await hosts()) expect(host.agent.state, id).toBe('reporting');
  });

  it('ends a host whose proxy is stopped not-reporting, with a reason naming the proxy', async () => {
    await stopSshd(mission.lab, mission.lab.vm('vpc2-proxy'));
    const job = await runJob({ kind: 'deploy-agent', project: PROJECT });
    expect(job.status).toBe('failed');
    const view = await hosts();
    for (const vm of mission.lab.targets('vpc2')) {
      expect(view.get(vm.name)?.agent.state, vm.name).toBe('not-reporting');
      expect(view.get(vm.name)?.agent.reason, vm.name).toContain('vpc2-proxy');
    }
    // The other VPC and the direct VM are untouched by vpc2's trouble.
    for (const id of ['vpc1-vm1', 'vpc1-vm2', 'vpc1-rh1', 'direct1'])
      expect(view.get(id)?.agent.state, id).toBe('reporting');
  });
});
