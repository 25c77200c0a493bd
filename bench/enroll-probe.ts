// Bench: enroll + probe through Outpost (issue 13's targets: one VM behind a proxy <= 8 s; 40 VMs in one job
// <= 3x the single-VM time). A real `outpost serve` (api + worker + tunnels) on a private Redis, a lab of
// VPCs each behind a proxy, prepared by a prepare-proxy job with the image user's password. Measured per
// size: one `enroll` job by password (it ends with the probe that proves cloudroot's login) and one `probe`
// job of the same hosts, each split from the job's own log into Ansible's plays and Outpost's time around
// them, and per task. Same-run baselines, alternating with this code:
//   --baseline-root DIR   the same jobs against another checkout (e.g. `git archive` of the commit before),
//                         its own service, Redis, project and VMs of the same lab;
//   --plain               plain `ansible-playbook` of the same playbooks with Outpost's generated inventory,
//                         nothing of Outpost running: the part that is Ansible's alone.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { writeInventory } from '../src/inventory/write-inventory.ts';
import { KeyStore } from '../src/secrets/key-store.ts';
import { Registry } from '../src/registry/registry.ts';
import { stopControlMasters } from '../src/ssh/stop-control-masters.ts';
import { up, type Lab, type LabVm } from '../test/lab/lab.ts';
import { freePort } from '../test/support/free-port.ts';
import { startRedis, type TestRedis } from '../test/support/redis.ts';
import { BENCH_MASTER_KEY, runPlain, writeVars } from './support/lab-fleet.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import {
  api,
  startService,
  submitJob,
  waitForEnd,
  BENCH_TOKEN,
  type BenchService,
} from './support/outpost-service.ts';
import { printTable, readFlags, ROOT, writeResult } from './support/report.ts';
import { nowMs, round } from './support/stats.ts';

const flags = readFlags({
  sizes: '1,40',
  vpcs: 4,
  slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0),
  baselineRoot: '',
  plain: true,
});
const sizes = flags.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 120))
  throw new Error(`--sizes: expected 1..120, got ${flags.sizes}`);
const machine = machineInfo();
console.log(`enroll + probe: sizes ${sizes.join(', ')}, ${flags.vpcs} VPC(s); ${describeMachine(machine)}`);

type Job = Record<string, unknown> & {
  status: string;
  reason?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
};
type Entry = { seq: number; type: string; time: string; data: string };

/** One code base under test: its service, Redis and project. */
interface Variant {
  name: 'this' | 'baseline';
  project: string;
  redis: TestRedis;
  service: BenchService;
}

const variants: Array<{ name: Variant['name']; root: string }> = [
  { name: 'this', root: ROOT },
  ...(flags.baselineRoot ? [{ name: 'baseline' as const, root: path.resolve(flags.baselineRoot) }] : []),
];
// Every variant and size gets its own fresh VMs (first contact), spread over the VPCs.
const perVpc = variants.length * sizes.map((n) => Math.ceil(n / flags.vpcs)).reduce((a, b) => a + b, 0);
const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-enroll-'));
const labStarted = nowMs();
const lab: Lab = await up({ slot: flags.slot, vpcs: flags.vpcs, vmsPerVpc: perVpc, directVms: 0 });
console.log(
  `  lab of ${flags.vpcs} proxies + ${lab.targets().length} VMs up in ${round((nowMs() - labStarted) / 1000)} s`,
);
const started: Variant[] = [];

let cleaned: Promise<void> | undefined;
/** Stops what the bench started and removes its temp dir (run dirs hold keys): once, at the end or on a signal. */
function cleanUp(): Promise<void> {
  cleaned ??= (async () => {
    for (const variant of started) {
      await variant.service.stop().catch(() => undefined);
      await variant.redis.stop().catch(() => undefined);
    }
    await lab.down().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  })();
  return cleaned;
}
// Ctrl-C or a SIGTERM half-way must not leave VMs running nor keys under /tmp/outpost-* (the secrets scan reads those).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`  ${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

/** A job's log entries with their times (`/events` as NDJSON, not followed). */
async function entriesOf(service: BenchService, jobId: string): Promise<Entry[]> {
  const response = await fetch(`${service.url}/v1/jobs/${jobId}/events?follow=false`, {
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, accept: 'application/x-ndjson' },
  });
  return (await response.text())
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Entry);
}

/** Where a job's seconds went: Ansible's plays (playbook_start..end), the rest, and the slowest tasks. */
async function phasesOf(
  service: BenchService,
  jobId: string,
  job: Job,
): Promise<{ totalS: number; playsS: number; plays: number; outsidePlaysS: number; slowestTasks: string }> {
  const at = (iso: string) => new Date(iso).getTime();
  const entries = await entriesOf(service, jobId);
  let plays = 0;
  let playCount = 0;
  let playStart: number | undefined;
  let task: { name: string; at: number } | undefined;
  const tasks = new Map<string, number>();
  const endTask = (now: number) => {
    if (task) tasks.set(task.name, (tasks.get(task.name) ?? 0) + now - task.at);
    task = undefined;
  };
  for (const entry of entries) {
    if (entry.type !== 'event') continue;
    const event = JSON.parse(entry.data) as { event: string; task?: string };
    const now = at(entry.time);
    if (event.event === 'playbook_start') playStart = now;
    if (event.event === 'task_start') {
      endTask(now);
      task = { name: event.task ?? '?', at: now };
    }
    if (event.event === 'recap') endTask(now);
    if (event.event === 'playbook_end' && playStart !== undefined) {
      plays += now - playStart;
      playCount += 1;
      playStart = undefined;
    }
  }
  const total = at(job.endedAt ?? job.createdAt) - at(job.createdAt);
  const slowest = [...tasks]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, ms]) => `${name.replace(/^cloudroot : /, '')} ${round(ms / 1000)}`)
    .join('; ');
  return {
    totalS: round(total / 1000),
    playsS: round(plays / 1000),
    plays: playCount,
    outsidePlaysS: round((total - plays) / 1000),
    slowestTasks: slowest,
  };
}

/** Runs one job to its end; its record, its wall seconds measured here, and its phases. */
async function timeJob(variant: Variant, spec: Record<string, unknown>) {
  const began = nowMs();
  const id = await submitJob(variant.service.url, spec);
  const job = (await waitForEnd(variant.service.url, id, 3_600_000)) as Job;
  const seconds = (nowMs() - began) / 1000;
  if (job.status !== 'successful') {
    console.log(`  ${variant.name}: job ${id} ${job.status}: ${(job.reason ?? '').slice(0, 2000)}`);
  }
  return { job, seconds, phases: await phasesOf(variant.service, id, job) };
}

async function startVariant(name: Variant['name'], root: string): Promise<Variant> {
  const redis = await startRedis();
  const service = await startService({
    redisUrl: redis.url,
    varDir: path.join(dir, `var-${name}`),
    root,
    // No deploy here: InfluxDB is a closed loopback port.
    env: { OUTPOST_INFLUX_URL: `http://127.0.0.1:${await freePort()}` },
  });
  const variant: Variant = { name, project: name === 'this' ? 'bench' : 'benchold', redis, service };
  started.push(variant);
  const post = async (url: string, body: Record<string, unknown>): Promise<void> => {
    const answer = await api(service.url, 'POST', url, body);
    if (answer.status !== 201)
      throw new Error(`${name} ${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  await post('/v1/projects', { id: variant.project });
  for (const proxy of lab.proxies()) {
    await post('/v1/proxies', {
      id: proxy.name,
      project: variant.project,
      publicAddress: proxy.publicAddress,
      vpcAddress: proxy.vpcAddress,
      networks: [proxy.vpcCidr],
    });
  }
  return variant;
}

/** Registers `vms` as hosts of the variant's project, behind their VPC's proxy, no host key pinned. */
async function addHosts(variant: Variant, vms: LabVm[]): Promise<void> {
  for (const vm of vms) {
    const answer = await api(variant.service.url, 'POST', '/v1/hosts', {
      id: vm.name,
      project: variant.project,
      address: vm.vpcAddress,
      network: vm.vpcCidr,
    });
    if (answer.status !== 201) throw new Error(`host ${vm.name}: ${JSON.stringify(answer.body)}`);
  }
}

/** Plain ansible-playbook of `playbook` on `vms` with Outpost's generated inventory; wall seconds. */
async function plainRun(variant: Variant, vms: LabVm[], playbook: string, tag: string): Promise<number> {
  const store = new Redis(variant.redis.url);
  try {
    const keys = new KeyStore(store, BENCH_MASTER_KEY, 'outpost:');
    const registry = new Registry(store, 'outpost:', { keys });
    const hosts = await Promise.all(vms.map((vm) => registry.getHost(vm.name)));
    const proxies = await registry.listProxies({ project: variant.project });
    const password = playbook === 'enroll.yml';
    const written = await writeInventory({
      dir: path.join(dir, `plain-${tag}`),
      project: variant.project,
      hosts,
      proxies,
      keys: { project: await keys.projectPrivateKey(variant.project) },
      ...(password ? { jump: 'detached-jump' as const } : {}),
    });
    const login =
      '-o BatchMode=no -o PasswordAuthentication=yes -o KbdInteractiveAuthentication=yes -o PreferredAuthentications=password,keyboard-interactive';
    const vars = await writeVars(
      dir,
      `plain-${tag}`,
      password
        ? {
            ansible_user: lab.user,
            ansible_password: lab.password,
            ansible_become_password: lab.password,
            ansible_ssh_extra_args: login,
            ansible_sftp_extra_args: login,
            ansible_scp_extra_args: login,
            cloudroot_authorized_keys: [
              await keys.ensureAdminKey(),
              await keys.ensureProjectKey(variant.project),
            ],
          }
        : { ansible_python_interpreter: 'auto_silent' },
    );
    const run = await runPlain(
      written.hostsFile,
      path.join(ROOT, 'playbooks', playbook),
      vars,
      path.join(dir, `cp-${tag}`),
      ['--limit', vms.map((vm) => vm.name).join(',')],
    );
    await stopControlMasters(
      written.sshConfig,
      proxies.map((p) => p.id),
    ).catch(() => undefined);
    await rm(vars, { force: true });
    for (const line of run.failures.slice(0, 5)) console.log(`    plain ${playbook}: ${line}`);
    return run.seconds;
  } finally {
    await store.quit().catch(() => undefined);
  }
}

const rows: Record<string, string | number | boolean | undefined>[] = [];
const details: Record<string, unknown>[] = [];
try {
  const running: Variant[] = [];
  for (const { name, root } of variants) running.push(await startVariant(name, root));
  const credentials = { user: lab.user, password: lab.password };
  for (const variant of running) {
    const prepared = await timeJob(variant, { kind: 'prepare-proxy', project: variant.project, credentials });
    console.log(
      `  ${variant.name}: prepare-proxy of ${flags.vpcs} proxies ${round(prepared.seconds)} s, ${prepared.job.status}`,
    );
    if (prepared.job.status !== 'successful') throw new Error(`${variant.name}: prepare-proxy failed`);
  }

  // Each (size, variant) takes the next ceil(size / vpcs) VMs of every VPC, then the first `size` of those.
  let offset = 0;
  const takeVms = (size: number): LabVm[] => {
    const take = Math.ceil(size / flags.vpcs);
    const vms = lab
      .proxies()
      .flatMap((proxy) => lab.targets(proxy.vpc).slice(offset, offset + take))
      .sort((a, b) => Number(/vm(\d+)$/.exec(a.name)?.[1]) - Number(/vm(\d+)$/.exec(b.name)?.[1]))
      .slice(0, size);
    offset += take;
    return vms;
  };
  for (const [index, size] of sizes.entries()) {
    // Alternate which code goes first, so a change of the machine's load does not favour one.
    const order = index % 2 === 0 ? running : [...running].reverse();
    for (const variant of order) {
      const vms = takeVms(size);
      await addHosts(variant, vms);
      const hosts = vms.map((vm) => vm.name);
      const enroll = await timeJob(variant, { kind: 'enroll', project: variant.project, hosts, credentials });
      const lines = Object.values(
        (enroll.job.result ?? {}) as Record<string, { login?: { state?: string } }>,
      );
      const enrolled = lines.filter((line) => line.login?.state === 'enrolled').length;
      const probe = await timeJob(variant, { kind: 'probe', project: variant.project, hosts });
      const load = os.loadavg()[0] ?? 0;
      console.log(
        `  ${variant.name} ${size} VM(s): enroll ${round(enroll.seconds)} s (${enrolled}/${size} enrolled, plays ${enroll.phases.playsS} s), probe ${round(probe.seconds)} s (${probe.job.status}); load ${round(load)}`,
      );
      const plainEnroll =
        flags.plain && variant.name === 'this'
          ? await plainRun(variant, vms, 'enroll.yml', `e${size}`)
          : undefined;
      const plainProbe =
        flags.plain && variant.name === 'this'
          ? await plainRun(variant, vms, 'probe.yml', `p${size}`)
          : undefined;
      if (plainEnroll !== undefined)
        console.log(
          `  plain ${size} VM(s): enroll.yml ${round(plainEnroll)} s, probe.yml ${round(plainProbe ?? 0)} s`,
        );
      rows.push({
        code: variant.name,
        vms: size,
        load1: round(load),
        enrollJobS: round(enroll.seconds),
        enrollPlaysS: enroll.phases.playsS,
        enrollOutsideS: enroll.phases.outsidePlaysS,
        probeJobS: round(probe.seconds),
        probePlaysS: probe.phases.playsS,
        probeOutsideS: probe.phases.outsidePlaysS,
        plainEnrollYmlS: plainEnroll === undefined ? undefined : round(plainEnroll),
        plainProbeYmlS: plainProbe === undefined ? undefined : round(plainProbe),
        enrolled: `${enrolled}/${size}`,
      });
      details.push({
        code: variant.name,
        size,
        hosts,
        enroll: { status: enroll.job.status, phases: enroll.phases },
        probe: { status: probe.job.status, phases: probe.phases },
      });
    }
  }
} finally {
  await cleanUp();
}

printTable('enroll (password, ends with its probe) and probe jobs: wall seconds from POST to the end', rows);
printTable(
  'slowest tasks of the enroll and probe jobs (s, summed over the job)',
  details.map((d) => ({
    code: d.code as string,
    vms: d.size as number,
    enroll: (d.enroll as { phases: { slowestTasks: string } }).phases.slowestTasks,
  })),
);
const find = (code: string, vms: number) => rows.find((row) => row.code === code && row.vms === vms);
const one = find('this', 1);
const big = find('this', Math.max(...sizes));
const ratio = (a: unknown, b: unknown) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b) : undefined;
const verdict = {
  oneVmEnrollS: one?.enrollJobS,
  oneVmTarget: 8,
  bigVms: big?.vms,
  bigEnrollS: big?.enrollJobS,
  bigOverOne: ratio(big?.enrollJobS, one?.enrollJobS),
  bigTarget: 3,
  baselineOverThis1: ratio(find('baseline', 1)?.enrollJobS, one?.enrollJobS),
  baselineOverThisBig: ratio(find('baseline', Math.max(...sizes))?.enrollJobS, big?.enrollJobS),
};
printTable('verdict (targets of issue 13: one VM <= 8 s, the biggest job <= 3x one VM)', [verdict]);
await writeResult('enroll-probe', machine, { flags, rows, details, verdict });
