import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../../../src/registry/registry.ts';
import { readTunnelStatus } from '../../../../src/tunnels/index.ts';
import { defaultSlot, up, type Lab, type LabVm } from '../../../lab/lab.ts';
import { freePort } from '../../../support/free-port.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';
import { buildTelegrafDeb } from '../../../support/telegraf-deb.ts';
import {
  api,
  startOutpost,
  startTunnelsNode,
  TEST_TOKEN,
  waitForEnd,
  type OutpostProcess,
} from '../../http/start-outpost.ts';
import { httpStatusFromVm, stopSshd } from '../../tunnels/prepare-tunnel-lab.ts';
import { runInTerminal } from '../../../support/run-in-terminal.ts';
import { enrollLabProject } from '../../inventory/enroll-lab-project.ts';

// One VPC (a proxy and four VMs) and one directly reachable VM. Outpost as two nodes on one Redis: api +
// worker (with the embedded influxd bound to the lab's control address, so the direct VM reaches it) and
// a tunnels node holding the uplinks; the worker learns an uplink is up only through Redis.
const ROOT = path.resolve(import.meta.dirname, '../../../..');
const PROJECT = 'agents';
const UPLINK_PORT = 18086;
const FRESH_SECONDS = 30;

let lab: Lab;
let redis: TestRedis;
let outpost: OutpostProcess;
let varDir: string;
let influxUrl: string;
let proxy: LabVm;
let targets: LabVm[];
let direct: LabVm;
let reader: Redis;
let tunnelsNode: ChildProcess;
/** The configuration id each host got from the first deploy. */
const firstConfigs = new Map<string, string>();

interface HostView {
  id: string;
  login: { state: string };
  agent: { state: string; uplink?: string; lastSeen?: string; reason?: string; config?: string };
  metrics?: { lastSeen: string | null; error?: string };
}
interface Verdict {
  state: string;
  deploy: string;
  playedBecause?: string;
  config?: string;
  seenConfig?: string;
  firstPointAt?: string;
  lastPointAt?: string;
  reason?: string;
}
interface JobView {
  id: string;
  status: string;
  reason?: string;
  command?: string[];
  result?: Record<string, { changed: number; failed: number; unreachable: number; agent: Verdict }>;
  timings?: {
    phases: { name: string; ms: number }[];
    runs: { playbook: string; tasks: { task: string; hosts: number }[]; hosts: Record<string, unknown> }[];
  };
}

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-deploy-'));
  const [labUp, redisUp, deb] = await Promise.all([
    up({ slot: defaultSlot(), vpcs: 1, vmsPerVpc: 4, directVms: 1 }),
    startRedis(),
    buildTelegrafDeb({ outDir: path.join(varDir, 'packages') }),
  ]);
  lab = labUp;
  redis = redisUp;
  reader = new Redis(redis.url);
  proxy = lab.proxies()[0] as LabVm;
  targets = lab.targets('vpc1');
  direct = lab.directs()[0] as LabVm;
  const influxPort = await freePort(lab.controlAddress);
  influxUrl = `http://${lab.controlAddress}:${influxPort}`;
  const env = {
    OUTPOST_INFLUX_BIND: lab.controlAddress,
    OUTPOST_INFLUX_PORT: String(influxPort),
    OUTPOST_INFLUX_RPC_PORT: String(await freePort()),
    OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
    OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
    OUTPOST_UPLINK_PORT: String(UPLINK_PORT),
    OUTPOST_UPLINK_WAIT_SECONDS: '20',
    OUTPOST_VERIFY_SECONDS: '40',
    // Points every 10 s (the role's interval): a host silent for 30 s has stopped reporting.
    OUTPOST_AGENT_FRESH_SECONDS: String(FRESH_SECONDS),
  };
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker'],
    name: 'deploy',
    env,
  });
  tunnelsNode = await startTunnelsNode({ redisUrl: redis.url, varDir, env });

  // The project (Outpost makes its key), then cloudroot on every VM the quickest honest way.
  await enrollLabProject(outpost.url, lab, PROJECT);
}, 240_000);

afterAll(async () => {
  if (tunnelsNode && tunnelsNode.exitCode === null) {
    const exited = new Promise((resolve) => tunnelsNode.once('exit', resolve));
    tunnelsNode.kill('SIGTERM');
    await exited;
  }
  await outpost?.stop();
  reader?.disconnect();
  await redis?.stop();
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
}, 120_000);

async function submit(
  kind: 'deploy-agent' | 'remove-agent',
  more: Record<string, unknown> = {},
): Promise<string> {
  const submitted = await api<{ id: string }>(outpost.url, 'POST', '/v1/jobs', {
    kind,
    project: PROJECT,
    ...more,
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  return submitted.body.id;
}

async function deploy(
  kind: 'deploy-agent' | 'remove-agent',
  more: Record<string, unknown> = {},
): Promise<JobView> {
  return (await waitForEnd(outpost.url, await submit(kind, more), 240_000)) as unknown as JobView;
}

/** The newest heartbeat of `host` in InfluxDB: its time and the configuration id it carries. */
async function newestPoint(host: string): Promise<{ time: string; config?: string } | undefined> {
  const [series] = await influx(
    `SELECT "uptime", "outpost_config" FROM "agent_system" WHERE "host" = '${host}' ORDER BY time DESC LIMIT 1`,
  );
  const row = series?.values[0];
  const [time, , config] = row ?? [];
  return typeof time === 'string'
    ? { time, ...(typeof config === 'string' && config !== '' ? { config } : {}) }
    : undefined;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function hosts(): Promise<Map<string, HostView>> {
  const { body } = await api<HostView[]>(outpost.url, 'GET', `/v1/hosts?project=${PROJECT}`);
  return new Map(body.map((host) => [host.id, host]));
}

async function influx(q: string): Promise<{ tags?: Record<string, string>; values: unknown[][] }[]> {
  const response = await fetch(`${influxUrl}/query?${new URLSearchParams({ db: 'telegraf', q }).toString()}`);
  const body = (await response.json()) as {
    results: { series?: { tags?: Record<string, string>; values: unknown[][] }[] }[];
  };
  return body.results[0]?.series ?? [];
}

async function fullLog(jobId: string): Promise<string> {
  const { body } = await api<string>(outpost.url, 'GET', `/v1/jobs/${jobId}/log`);
  return String(body);
}

async function logOf(jobId: string): Promise<string> {
  const { body } = await api<string>(outpost.url, 'GET', `/v1/jobs/${jobId}/log`);
  return String(body).slice(-6000);
}

/** The environment of the `outpost` CLI against this file's service. */
function cliEnv(): Record<string, string | undefined> {
  return { ...process.env, OUTPOST_URL: outpost.url, OUTPOST_API_TOKEN: TEST_TOKEN, OUTPOST_VAR_DIR: varDir };
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(ROOT, 'bin/outpost.js'), ...args],
    {
      cwd: ROOT,
      env: cliEnv(),
    },
  );
  return stdout;
}

async function tunnelsUp(): Promise<number> {
  const { body } = await api<string>(outpost.url, 'GET', '/metrics');
  return Number(/^outpost_tunnels_up (\d+)$/m.exec(String(body))?.[1]);
}

describe('deploy-agent and remove-agent on a VPC behind a proxy and a direct VM', () => {
  it('deploys to all with `outpost deploy --follow` on a terminal: one live line per host, then verdicts; each host reports, with real points tagged', async () => {
    // A real pseudo-terminal (script), rendered by a terminal emulator: what a person would see.
    const names = [...targets, direct].map((vm) => vm.name);
    const run = await runInTerminal(
      [
        process.execPath,
        path.join(ROOT, 'bin/outpost.js'),
        'deploy',
        ...names,
        '--project',
        PROJECT,
        '--follow',
      ],
      { cwd: ROOT, env: cliEnv() },
    );
    const jobId = /outpost: job (job-[a-z0-9-]+) queued/.exec(run.screen.join('\n'))?.[1] ?? '';
    const job = (await waitForEnd(outpost.url, jobId, 5000)) as unknown as JobView;
    expect(job.status, `${job.reason ?? ''}\n${await logOf(job.id)}\n${run.screen.join('\n')}`).toBe(
      'successful',
    );
    expect(run.exitCode).toBe(0);
    const screen = run.screen;
    expect(screen.filter((line) => line.includes('queued'))).toHaveLength(1);
    // Each host: its live line, redrawn in place to its end state, and its verdict; no other line for it.
    for (const vm of [...targets, direct]) {
      const lines = screen.filter((line) => line.startsWith(`${vm.name} `));
      expect(lines, screen.join('\n')).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^${vm.name} +reporting$`));
      const url =
        vm === direct
          ? /http:\/\/203\.0\.113\.\d+:\d+/
          : new RegExp(`http://${proxy.vpcAddress}:${UPLINK_PORT}`);
      expect(lines[1]).toMatch(
        new RegExp(
          `^${vm.name} +reporting, first point \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ, uplink ${vm === direct ? 'direct' : 'proxy'}, writes to ${url.source}$`,
        ),
      );
    }
    // The proxy is not a target: no line; the task stream only with --verbose.
    expect(screen.some((line) => line.startsWith(proxy.name))).toBe(false);
    expect(screen.some((line) => /^TASK \[|^PLAY /.test(line))).toBe(false);
    expect(screen.at(-1)).toBe(`job ${jobId} successful`);

    const seen = await hosts();
    expect(seen.get(direct.name)?.agent).toMatchObject({ state: 'reporting', uplink: 'direct' });
    for (const vm of targets)
      expect(seen.get(vm.name)?.agent).toMatchObject({ state: 'reporting', uplink: 'proxy' });
    for (const host of seen.values()) {
      expect(host.agent.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(host.metrics?.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    // Each host's points carry the id of the configuration this play wrote, as the job and registry say.
    for (const vm of [...targets, direct]) {
      const verdict = job.result?.[vm.name]?.agent;
      expect(verdict).toMatchObject({ state: 'reporting', deploy: 'applied' });
      expect(verdict?.config).toMatch(/^[0-9a-f]{16}$/);
      expect((await newestPoint(vm.name))?.config, vm.name).toBe(verdict?.config);
      expect(seen.get(vm.name)?.agent.config).toBe(verdict?.config);
      firstConfigs.set(vm.name, verdict?.config ?? '');
    }
    expect(new Set(firstConfigs.values()).size, 'one configuration per host').toBe(5);

    const series = await influx(
      'SELECT last("uptime") FROM "agent_system" GROUP BY "host", "project", "network"',
    );
    const tags = series.map((s) => s.tags ?? {});
    expect(tags).toContainEqual({ host: direct.name, project: PROJECT, network: '' });
    for (const vm of targets)
      expect(tags).toContainEqual({ host: vm.name, project: PROJECT, network: vm.vpcCidr });

    // The VPC VMs write through the uplink held on the proxy's VPC address.
    expect(
      await httpStatusFromVm(lab, targets[0] as LabVm, `http://${proxy.vpcAddress}:${UPLINK_PORT}/ping`),
    ).toBe('204');
    const status = await readTunnelStatus(reader, 'outpost:', proxy.name);
    expect(status?.forwards.map((f) => [f.id, f.state])).toEqual([
      [`remote:${proxy.vpcAddress}:${UPLINK_PORT}`, 'up'],
    ]);
    expect(status?.node, 'held by the tunnels node').toContain(`-${tunnelsNode.pid}-`);
    expect(await tunnelsUp()).toBe(1);

    const table = await cli('host', 'list', '--project', PROJECT);
    expect(table.split('\n')[0]).toMatch(
      /ID\s+PROJECT\s+ADDRESS\s+PORT\s+PROXY\s+LOGIN\s+REACH\s+UPLINK\s+AGENT\s+TELEGRAF\s+LASTSEEN/,
    );
    // The Telegraf version the play installed (the stand-in's default package version).
    expect(table).toMatch(
      new RegExp(`${targets[0]?.name}\\s.*\\sproxy\\s+reporting\\s+1\\.30\\.0\\s+\\d{4}-`),
    );
    expect(table).toMatch(new RegExp(`${direct.name}\\s.*\\sdirect\\s+reporting\\s+1\\.30\\.0\\s+\\d{4}-`));

    // Where the time went: the job's phases, each task of the play and each host.
    expect(job.timings?.phases.map((phase) => phase.name)).toEqual(['probe', 'uplinks', 'play', 'proof']);
    const [play] = job.timings?.runs ?? [];
    expect(play?.playbook).toBe('deploy-agent.yml');
    expect(play?.tasks.find((task) => task.task === 'Gathering Facts')?.hosts).toBe(5);
    expect(Object.keys(play?.hosts ?? {}).sort()).toEqual([...targets, direct].map((vm) => vm.name).sort());
    const printed = await cli('job', 'show', job.id, '--timings');
    expect(printed).toMatch(/^phases: probe \d+\.\d s, uplinks \d+\.\d s, play \d+\.\d s, proof \d+\.\d s$/m);
    expect(printed).toMatch(/^deploy-agent\.yml: \d+\.\d s \(Ansible start-up \d+\.\d s\)$/m);
    expect(printed).toMatch(/^Gathering Facts\s+\d+\.\d s\s+5\s+/m);
    for (const vm of [...targets, direct])
      expect(printed).toMatch(new RegExp(`^${vm.name}\\s+\\d+\\s+\\d+\\.\\d s`, 'm'));
  }, 300_000);

  it('deploys again without Ansible: the fast path finds every host right and still proves fresh points', async () => {
    const job = await deploy('deploy-agent');
    expect(job.status, `${job.reason ?? ''}\n${await logOf(job.id)}`).toBe('successful');
    expect(job.command, 'no ansible-playbook ran').toBeUndefined();
    expect(job.timings?.runs).toEqual([]);
    expect(await logOf(job.id)).toContain('outpost: no host needs the play');
    for (const vm of [...targets, direct]) {
      const result = job.result?.[vm.name];
      expect(result).toMatchObject({
        changed: 0,
        failed: 0,
        unreachable: 0,
        agent: { state: 'reporting', deploy: 'unchanged (fast path)', config: firstConfigs.get(vm.name) },
      });
      // The proof: a point of this configuration within the fresh window.
      expect(Date.now() - Date.parse(result?.agent.lastPointAt ?? '')).toBeLessThan(
        (FRESH_SECONDS + 10) * 1000,
      );
    }
  }, 240_000);

  it('never proves a deploy canceled at its second task by the old agent: the host reports (old config)', async () => {
    const [, , vm3] = targets as [LabVm, LabVm, LabVm];
    // For the next test: vm3's agent stops sending (it hangs) from now on.
    await lab.sh(vm3, 'kill -STOP "$(cat /var/run/telegraf/telegraf.pid)"');

    // A role variable of the direct VM changes (its network tag); the registry is what a PATCH would change.
    await new Registry(reader, 'outpost:').updateHost(direct.name, { network: 'lab-direct' });
    const id = await submit('deploy-agent', { hosts: [direct.name] });
    // The deploy play's second task (after Gathering Facts): cancel there.
    await waitUntil(
      'the play at its second task',
      async () => ((await fullLog(id)).match(/^TASK \[/gm)?.length ?? 0) >= 2,
    );
    expect((await api(outpost.url, 'POST', `/v1/jobs/${id}/cancel`)).status).toBe(202);
    const job = (await waitForEnd(outpost.url, id, 120_000)) as unknown as JobView;
    expect(job.status).toBe('canceled');

    const old = firstConfigs.get(direct.name);
    const verdict = job.result?.[direct.name]?.agent;
    expect(verdict).toMatchObject({ state: 'reporting-old-config', deploy: 'canceled', seenConfig: old });
    expect(verdict?.config, 'this deploy wanted another configuration').not.toBe(old);
    expect(verdict?.reason).toContain('canceled before it finished here');
    // The agent kept its old configuration and goes on reporting with it: state and last seen agree.
    expect(await lab.sh(direct, 'cat /etc/telegraf/telegraf.conf')).toContain(`outpost_config = "${old}"`);
    const host = (await hosts()).get(direct.name);
    expect(host?.agent).toMatchObject({ state: 'reporting-old-config', config: old });
    await waitUntil('a point of the old configuration after the cancel', async () => {
      const point = await newestPoint(direct.name);
      return (
        point !== undefined &&
        point.config === old &&
        Date.parse(point.time) > Date.parse(verdict?.lastPointAt ?? '')
      );
    });
    const row = (await cli('host', 'list', '--project', PROJECT))
      .split('\n')
      .find((line) => line.startsWith(`${direct.name} `));
    // The version a canceled deploy found there stays recorded.
    expect(row).toMatch(/\sreporting \(old config\)\s+1\.30\.0\s+\d{4}-\d\d-\d\dT/);
  }, 240_000);

  it('sends only the hosts that changed through the play: hand-edited, stopped, silent, new variable', async () => {
    const [vm1, vm2, vm3, vm4] = targets as [LabVm, LabVm, LabVm, LabVm];
    await lab.sh(vm1, "echo '# edited by hand' >> /etc/telegraf/telegraf.conf");
    await lab.sh(vm2, '/etc/init.d/telegraf stop');
    // vm3 hangs since the test before: wait until its newest point is older than the fresh window.
    await waitUntil(
      `${vm3.name} silent for ${FRESH_SECONDS} s`,
      async () =>
        Date.now() - Date.parse((await newestPoint(vm3.name))?.time ?? '') > (FRESH_SECONDS + 2) * 1000,
      120_000,
    );
    const job = await deploy('deploy-agent');
    expect(job.status, `${job.reason ?? ''}\n${await logOf(job.id)}`).toBe('successful');

    const limit = job.command?.[job.command.indexOf('--limit') + 1];
    expect(limit?.split(',').sort(), 'the play ran on these hosts only').toEqual(
      [vm1, vm2, vm3, direct].map((vm) => vm.name).sort(),
    );
    expect(job.result?.[vm4.name]?.agent).toMatchObject({
      state: 'reporting',
      deploy: 'unchanged (fast path)',
    });
    const because: Array<[LabVm, RegExp]> = [
      [vm1, /telegraf\.conf is not what the last play wrote/],
      [vm2, /the Telegraf service is not running/],
      [vm3, /the agent runs but its points stopped/],
      [
        direct,
        /the configuration changed: the last play applied [0-9a-f]{16}, this deploy wants [0-9a-f]{16}/,
      ],
    ];
    for (const [vm, reason] of because) {
      const result = job.result?.[vm.name];
      expect(result?.agent, vm.name).toMatchObject({ state: 'reporting', deploy: 'applied' });
      expect(result?.agent.playedBecause, vm.name).toMatch(reason);
      expect(result?.changed, `${vm.name} was changed`).toBeGreaterThan(0);
      expect((await newestPoint(vm.name))?.config, vm.name).toBe(result?.agent.config);
    }

    // The hand edit is gone; the stamp holds the checksum of what the play wrote and its configuration.
    const conf = await lab.sh(vm1, 'cat /etc/telegraf/telegraf.conf');
    expect(conf).not.toContain('edited by hand');
    const stamp = JSON.parse(await lab.sh(vm1, 'cat /etc/telegraf/outpost-stamp.json')) as {
      config_id: string;
      files: Record<string, string>;
    };
    const sum = (await lab.sh(vm1, 'sha256sum /etc/telegraf/telegraf.conf')).split(' ')[0];
    expect(stamp).toMatchObject({
      config_id: firstConfigs.get(vm1.name),
      files: { '/etc/telegraf/telegraf.conf': sum },
    });
    // The new variable reached the direct VM's points (and a new configuration id with it).
    expect(job.result?.[direct.name]?.agent.config).not.toBe(firstConfigs.get(direct.name));
    const [series] = await influx(
      `SELECT "uptime", "network" FROM "agent_system" WHERE "host" = '${direct.name}' ORDER BY time DESC LIMIT 1`,
    );
    expect(series?.values[0]?.[2]).toBe('lab-direct');
  }, 300_000);

  it('names the host whose key changed and the command that accepts it, not ssh’s banner; `outpost host rekey` pins the new key', async () => {
    const vm = targets[1] as LabVm;
    await lab.sh(
      vm,
      "rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && kill -HUP $(cat /run/sshd.pid)",
    );
    const job = await deploy('deploy-agent');
    expect(job.status).toBe('failed');
    const said = `host "${vm.name}": its SSH host key changed since it was pinned`;
    const reason = (await hosts()).get(vm.name)?.agent.reason ?? '';
    for (const text of [job.reason ?? '', reason]) {
      expect(text).toContain(said);
      expect(text).toContain(`accept the new key with: outpost host rekey ${vm.name}`);
      expect(text).not.toMatch(/REMOTE HOST IDENTIFICATION|ssh-keygen -R|@@@/);
    }
    expect(job.result?.[(targets[0] as LabVm).name]?.agent?.state).toBe('reporting');

    const rekeyed = await cli('host', 'rekey', vm.name);
    const fingerprint = (await lab.sh(vm, 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub')).split(' ')[1];
    expect(rekeyed).toContain(
      `host ${vm.name} presents ssh-ed25519 ${fingerprint} (read through proxy ${proxy.name}): pinned, replacing SHA256:`,
    );
    const pinned = await api<{ hostKey?: string }>(outpost.url, 'GET', `/v1/hosts/${vm.name}`);
    expect(pinned.body.hostKey).toBe(
      (await lab.sh(vm, 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')).trim(),
    );
  }, 240_000);

  it("ends not-reporting naming the proxy when the proxy's sshd is stopped", async () => {
    try {
      await stopSshd(lab, proxy);
      const job = await deploy('deploy-agent');
      expect(job.status).toBe('failed');
      const seen = await hosts();
      for (const vm of targets) {
        expect(seen.get(vm.name)?.agent.state).toBe('not-reporting');
        expect(seen.get(vm.name)?.agent.reason).toContain(`unreachable through proxy ${proxy.name}`);
        expect(seen.get(vm.name)?.agent.uplink).toBe('proxy');
      }
      expect(seen.get(direct.name)?.agent.state).toBe('reporting');
      expect(job.reason).toContain(proxy.name);
    } finally {
      await lab.sh(proxy, '/usr/sbin/sshd');
    }
  }, 240_000);

  it('removes the agent: no package, config or process is left and the uplink is released', async () => {
    // Back on the proxy: the tunnel node reconnects on its own.
    const deadline = Date.now() + 30_000;
    while ((await readTunnelStatus(reader, 'outpost:', proxy.name))?.forwards[0]?.state !== 'up') {
      if (Date.now() > deadline) throw new Error('uplink did not come back after sshd restarted');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const job = await deploy('remove-agent');
    expect(job.status, `${job.reason ?? ''}\n${await logOf(job.id)}`).toBe('successful');
    const seen = await hosts();
    for (const vm of [...targets, direct]) {
      expect(seen.get(vm.name)?.agent.state).toBe('removed');
      const left = await lab.sh(
        vm,
        `dpkg-query -W -f='\${db:Status-Abbrev}' telegraf 2>/dev/null; ls -d /etc/telegraf 2>/dev/null; ` +
          `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = telegraf ] && echo "process \${p#/proc/}"; done; true`,
      );
      expect(left.trim().replace(/^un\s*/, ''), vm.name).toBe('');
    }
    expect(await readTunnelStatus(reader, 'outpost:', proxy.name)).toBeUndefined();
    expect(
      await httpStatusFromVm(lab, targets[0] as LabVm, `http://${proxy.vpcAddress}:${UPLINK_PORT}/ping`),
    ).toMatch(/^error/);
    expect(await tunnelsUp()).toBe(0);
  }, 240_000);
});
