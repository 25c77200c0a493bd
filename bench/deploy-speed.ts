// Bench: deploy speed (issue 13). A lab of `--vpcs` VPCs x `--vms` VMs behind one proxy each, enrolled
// (cloudroot, pinned keys, prepared proxies), nothing installed. Each way is a real `outpost serve` (api,
// worker, tunnels) on its own Redis, one at a time (they would fight over the uplink port), all writing to
// one InfluxDB; a job is timed from POST to its end, i.e. until every host reports (or the job gave up).
//   new      this repository: the fast path, then the play only where needed
//   today    the code at `--baseline` (default main), extracted with `git archive`: the uplink-check
//            play, then the play on every host, every time
//   mitogen  this repository with OUTPOST_ANSIBLE_STRATEGY=mitogen_linear (when installed)
//   free     this repository with OUTPOST_ANSIBLE_STRATEGY=free (hosts do not wait for each other per task)
// Per way: a first deploy at each size (fresh VMs; the agent is removed again between sizes, not timed),
// then at the largest size a no-change deploy: for `new`, the fast path and `--full` (the play) alternate
// `--fast-rounds` times. Every job's timings (phases, the slowest tasks) are printed. With `--login`,
// the `new` way first prepares the proxies and enrolls and probes the VMs itself (by the lab user's
// password) at each size, timed the same way, before the deploys.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { down, up, type Lab } from '../test/lab/lab.ts';
import { startInflux } from '../test/support/influx.ts';
import { labEntities } from '../test/support/lab-entities.ts';
import { startRedis, type TestRedis } from '../test/support/redis.ts';
import { buildTelegrafDeb } from '../test/support/telegraf-deb.ts';
import { createCloudroot } from '../test/integration/inventory/reach-lab.ts';
import { Redis } from 'ioredis';
import { buildProbeCommand } from '../src/jobs/agent/probe-agents.ts';
import type { JobRecord } from '../src/queue/job-record.ts';
import { Registry } from '../src/registry/registry.ts';
import { writeProjectInventory } from '../src/registry/write-project-inventory.ts';
import { KeyStore } from '../src/secrets/key-store.ts';
import { runSsh } from '../src/ssh/run-ssh.ts';
import { stopControlMasters } from '../src/ssh/stop-control-masters.ts';
import { createBenchScratch } from './support/bench-scratch.ts';
import { BENCH_MASTER_KEY } from './support/lab-fleet.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { api, startService, submitJob, waitForEnd, type BenchService } from './support/outpost-service.ts';
import { printTable, readFlags, ROOT, writeResult } from './support/report.ts';
import { nowMs, round } from './support/stats.ts';

const flags = readFlags({
  vpcs: 4,
  vms: 10,
  sizes: '1,10,40',
  ways: 'new,today',
  baseline: 'main',
  fastRounds: 3,
  login: false,
  slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0),
});
const PROJECT = 'speed';
const total = flags.vpcs * flags.vms;
const sizes = flags.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > total))
  throw new Error(`--sizes: expected 1..${total}, got ${flags.sizes}`);
const largest = Math.max(...sizes);
const machine = machineInfo();
console.log(
  `deploy speed: ${flags.vpcs} VPCs x ${flags.vms} VMs, sizes ${sizes.join(', ')}, ways ${flags.ways}; ${describeMachine(machine)}`,
);

/** Ways that are this repository with another Ansible strategy. */
const STRATEGY_WAYS: Record<string, string> = { mitogen: 'mitogen_linear', free: 'free' };

interface Way {
  name: string;
  rootDir: string;
  env: Record<string, string>;
  redis: TestRedis;
  /** Sizes of its first deploys: every size for `new`, the largest for the others. */
  sizes: number[];
}

interface Sample {
  way: string;
  kind: 'first' | 'no-change (fast path)' | 'no-change (play)' | 'prepare-proxy' | 'enroll' | 'probe';
  size: number;
  seconds: number;
  status: string;
  reporting: number;
  loadAtStart: number;
  job: JobRecord;
}

// The scratch (the baseline's copy of the repository, packages, runs) and all the bench starts go at
// its end and on SIGINT/SIGTERM; the scratch is not under /tmp/outpost-*, which the secrets scan reads.
const scratch = await createBenchScratch('deploy-speed');
const work = scratch.dir;
const samples: Sample[] = [];
const floors: { vms: number; sshTrueSeconds: number; probeSeconds: number; failed: number; load: number }[] =
  [];
let lab: Lab | undefined;
try {
  const influx = await startInflux();
  scratch.defer(() => influx.stop());
  const debDir = path.join(work, 'debs');
  await buildTelegrafDeb({ outDir: debDir });
  const ways: Way[] = [];
  for (const name of flags.ways.split(',')) {
    const redis = await startRedis();
    scratch.defer(() => redis.stop());
    const env = {
      OUTPOST_INFLUX_URL: influx.url,
      OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
      OUTPOST_TELEGRAF_PACKAGE_DIR: debDir,
      OUTPOST_UPLINK_WAIT_SECONDS: '60',
      OUTPOST_VERIFY_SECONDS: '120',
      OUTPOST_LOG_LEVEL: 'warn',
    };
    const strategy = STRATEGY_WAYS[name];
    if (name === 'new') ways.push({ name, rootDir: ROOT, env, redis, sizes });
    else if (strategy)
      ways.push({
        name,
        rootDir: ROOT,
        env: { ...env, OUTPOST_ANSIBLE_STRATEGY: strategy },
        redis,
        sizes: [largest],
      });
    else if (name === 'today')
      ways.push({ name, rootDir: await extractBaseline(flags.baseline), env, redis, sizes: [largest] });
    else throw new Error(`--ways: unknown way ${JSON.stringify(name)} (new, today, mitogen, free)`);
  }

  const started = nowMs();
  // Down by slot: a signal during `up` leaves no half-built lab either.
  scratch.defer(() => down(flags.slot));
  lab = await up({ slot: flags.slot, vpcs: flags.vpcs, vmsPerVpc: flags.vms, directVms: 0 });
  const vms = lab.targets();
  // Proxies as prepare-proxy leaves them (roles/ssh_proxy_node): uplinks, keepalives, many jumps at once.
  for (const proxy of lab.proxies())
    await lab.sh(
      proxy,
      `printf 'GatewayPorts clientspecified\\nClientAliveInterval 15\\nClientAliveCountMax 3\\nMaxStartups 100:30:200\\nMaxSessions 50\\n' > /etc/ssh/sshd_config.d/10-outpost-proxy.conf
sshd -t && kill -HUP "$(cat /run/sshd.pid)"`,
    );
  // Each way's registry (its own keys): every cloudroot accepts all of them, as enrollment would leave it.
  const keys: string[] = [];
  for (const way of ways) keys.push(...(await withService(way, (service) => register(service, lab as Lab))));
  const newWay = ways.find((way) => way.name === 'new');
  if (flags.login && newWay)
    await withService(newWay, async (service) => {
      const credentials = { user: (lab as Lab).user, password: (lab as Lab).password };
      const proxies = (lab as Lab).proxies().map((vm) => vm.name);
      await measureLogin(newWay, service, 'prepare-proxy', { hosts: proxies, credentials });
      for (const size of sizes) {
        const hosts = vms.slice(0, size).map((vm) => vm.name);
        await measureLogin(newWay, service, 'enroll', { hosts, credentials });
        await measureLogin(newWay, service, 'probe', { hosts });
      }
    });
  await eachLimited([...lab.proxies(), ...vms], 8, (vm) => createCloudroot(lab as Lab, vm, keys));
  console.log(
    `  lab of ${lab.proxies().length} proxies + ${vms.length} VMs enrolled in ${round((nowMs() - started) / 1000)} s`,
  );

  for (const way of ways) {
    await withService(way, async (service) => {
      for (const size of way.sizes) {
        const hosts = vms.slice(0, size).map((vm) => vm.name);
        await measure(way, service, 'first', hosts);
        if (size === largest) {
          for (let r = 0; r < (way.name === 'new' ? flags.fastRounds : 1); r++) {
            // Alternate which goes first, so neither always follows the other.
            const kinds: Sample['kind'][] =
              way.name !== 'new'
                ? ['no-change (play)']
                : r % 2 === 0
                  ? ['no-change (fast path)', 'no-change (play)']
                  : ['no-change (play)', 'no-change (fast path)'];
            for (const kind of kinds) await measure(way, service, kind, hosts);
          }
          if (way.name === 'new') await measureSshFloor(way, hosts);
        } else if (way.name === 'new') await measure(way, service, 'no-change (fast path)', hosts);
        // Back to enrolled VMs with nothing installed, for the next first deploy (not timed).
        const removal = await waitForEnd(
          service.url,
          await submitJob(service.url, { kind: 'remove-agent', project: PROJECT, hosts }),
          1_800_000,
        );
        if (removal.status !== 'successful')
          throw new Error(
            `remove-agent by ${way.name} ended ${String(removal.status)}: ${String(removal.reason)}`,
          );
      }
    });
  }
} finally {
  await scratch.teardown();
}

const mean = (way: string, kind: Sample['kind'], size: number): number | undefined => {
  const xs = samples.filter((s) => s.way === way && s.kind === kind && s.size === size).map((s) => s.seconds);
  return xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : undefined;
};
const wayNames = flags.ways.split(',');
printTable(
  'every job (seconds from POST to its end; reporting = hosts proven reporting)',
  samples.map((s) => ({
    way: s.way,
    kind: s.kind,
    vms: s.size,
    seconds: round(s.seconds),
    status: s.status,
    reporting: s.reporting,
    load: s.loadAtStart,
  })),
);
const first = sizes.map((size) => ({
  vms: size,
  ...Object.fromEntries(wayNames.map((way) => [way, mean(way, 'first', size)])),
}));
printTable('first deploy until all report (mean s)', first);
const today = mean('today', 'first', largest);
const fresh = mean('new', 'first', largest);
const fast = mean('new', 'no-change (fast path)', largest);
const play = mean('new', 'no-change (play)', largest);
const todayAgain = mean('today', 'no-change (play)', largest);
const verdict = {
  vms: largest,
  firstNew: fresh,
  firstToday: today,
  firstSpeedup: today && fresh ? round(today / fresh) : undefined,
  firstTarget: 3,
  noChangeFastPath: fast,
  noChangePlay: play,
  noChangeToday: todayAgain,
  fastOverPlay: fast && play ? round(play / fast) : undefined,
  noChangeTarget: 5,
};
printTable('SSH floor of the fast path (25 at a time, no ControlMaster per host)', floors);
printTable('verdict', [verdict]);
await writeResult('deploy-speed', machine, {
  flags,
  verdict,
  floors,
  samples: samples.map(({ job, ...rest }) => ({
    ...rest,
    jobId: job.id,
    timings: job.timings,
    reason: job.reason,
  })),
});

/** Starts `way`'s service, runs `fn`, stops it (the uplink forwards go with it). */
async function withService<T>(way: Way, fn: (service: BenchService) => Promise<T>): Promise<T> {
  const service = await startService({
    redisUrl: way.redis.url,
    varDir: path.join(work, `var-${way.name}`),
    root: way.rootDir,
    env: way.env,
  });
  // A signal mid-way stops it with the rest (stop is a no-op once it exited).
  scratch.defer(() => service.stop());
  try {
    return await fn(service);
  } finally {
    await service.stop();
  }
}

/** Registers the project, proxies and VMs (keys pinned, as enrollment leaves them); returns the project's public keys. */
async function register(service: BenchService, lab: Lab): Promise<string[]> {
  const created = await api<{ publicKeys: { admin: string; project: string } }>(
    service.url,
    'POST',
    '/v1/projects',
    {
      id: PROJECT,
    },
  );
  if (created.status !== 201) throw new Error(`project: ${created.status} ${JSON.stringify(created.body)}`);
  const { proxies, hosts } = labEntities(lab, PROJECT);
  for (const [kind, body] of [
    ...proxies.map((b) => ['proxies', b] as const),
    ...hosts.map((b) => ['hosts', b] as const),
  ]) {
    const response = await api(service.url, 'POST', `/v1/${kind}`, body);
    if (response.status !== 201)
      throw new Error(`${kind} ${body.id}: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return [created.body.publicKeys.admin, created.body.publicKeys.project];
}

/** One deploy-agent job to `hosts`, timed from POST to its end. */
async function measure(
  way: Way,
  service: BenchService,
  kind: Sample['kind'],
  hosts: string[],
): Promise<void> {
  const loadAtStart = round(os.loadavg()[0] ?? 0);
  const begun = nowMs();
  const full = kind === 'no-change (play)' && way.name !== 'today';
  const id = await submitJob(service.url, {
    kind: 'deploy-agent',
    project: PROJECT,
    hosts,
    ...(full ? { options: { full: true } } : {}),
  });
  const job = (await waitForEnd(service.url, id, 3_600_000)) as unknown as JobRecord;
  const seconds = (nowMs() - begun) / 1000;
  const result = (job.result ?? {}) as Record<string, { agent?: { state?: string } }>;
  const reporting = Object.values(result).filter((r) => r.agent?.state === 'reporting').length;
  samples.push({
    way: way.name,
    kind,
    size: hosts.length,
    seconds,
    status: job.status,
    reporting,
    loadAtStart,
    job,
  });
  console.log(
    `  ${way.name} ${kind} ${hosts.length} VMs: ${round(seconds)} s, ${job.status}, ${reporting}/${hosts.length} reporting (load ${loadAtStart})${job.status === 'successful' ? '' : `: ${String(job.reason).slice(0, 300)}`}`,
  );
  await printJobTimings(service, job);
}

/**
 * The floor under the fast path at this size: one `ssh host true` per host through the same generated
 * ssh_config (ProxyJump over the proxies' ControlMaster connections), 25 at a time, and the same with
 * the fast path's probe command instead of `true`: what is SSH's, what is the probe's.
 */
async function measureSshFloor(way: Way, hosts: string[]): Promise<void> {
  const redis = new Redis(way.redis.url);
  const dir = await mkdtemp(path.join(work, 'floor-'));
  try {
    const keys = new KeyStore(redis, BENCH_MASTER_KEY, 'outpost:');
    const written = await writeProjectInventory(
      { registry: new Registry(redis, 'outpost:', { keys }), keys },
      PROJECT,
      dir,
    );
    const timeAll = async (command: string): Promise<{ seconds: number; failed: number }> => {
      const begun = nowMs();
      let failed = 0;
      await eachLimited(hosts, 25, async (host) => {
        const result = await runSsh(written.sshConfig, host, command, { sshOptions: ['ControlMaster=no'] });
        if (result.exitCode !== 0) failed += 1;
      });
      return { seconds: (nowMs() - begun) / 1000, failed };
    };
    const loadAtStart = round(os.loadavg()[0] ?? 0);
    const bare = await timeAll('true');
    const probe = await timeAll(buildProbeCommand({}));
    floors.push({
      vms: hosts.length,
      sshTrueSeconds: round(bare.seconds),
      probeSeconds: round(probe.seconds),
      failed: bare.failed + probe.failed,
      load: loadAtStart,
    });
    console.log(
      `  ssh floor ${hosts.length} VMs: 'ssh host true' ${round(bare.seconds)} s, the probe command ${round(probe.seconds)} s (load ${loadAtStart}, ${bare.failed + probe.failed} failed)`,
    );
  } finally {
    await stopControlMasters(
      path.join(dir, 'ssh_config'),
      (lab as Lab).proxies().map((vm) => vm.name),
    ).catch(() => 0);
    await redis.quit().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One login job (prepare-proxy, enroll, probe) of `way`, timed from POST to its end. */
async function measureLogin(
  way: Way,
  service: BenchService,
  kind: 'prepare-proxy' | 'enroll' | 'probe',
  spec: { hosts: string[]; credentials?: { user: string; password: string } },
): Promise<void> {
  const loadAtStart = round(os.loadavg()[0] ?? 0);
  const begun = nowMs();
  const id = await submitJob(service.url, {
    kind,
    project: PROJECT,
    ...spec,
    options: { timeoutSeconds: 3600 },
  });
  const job = (await waitForEnd(service.url, id, 3_700_000)) as unknown as JobRecord;
  const seconds = (nowMs() - begun) / 1000;
  samples.push({
    way: way.name,
    kind,
    size: spec.hosts.length,
    seconds,
    status: job.status,
    reporting: 0,
    loadAtStart,
    job,
  });
  console.log(
    `  ${way.name} ${kind} ${spec.hosts.length} VMs: ${round(seconds)} s, ${job.status} (load ${loadAtStart})${job.status === 'successful' ? '' : `: ${String(job.reason).slice(0, 300)}`}`,
  );
  if (job.status !== 'successful') throw new Error(`${kind} failed: the deploys need enrolled hosts`);
  await printJobTimings(service, job);
}

/**
 * The job's phases and its slowest tasks: where the time went. A job over more than one proxy runs as
 * slices and has no timings of its own: each slice's are printed, under its label.
 */
async function printJobTimings(service: BenchService, job: JobRecord, indent = '    '): Promise<void> {
  for (const sliceId of job.slices ?? []) {
    const slice = (await api<JobRecord>(service.url, 'GET', `/v1/jobs/${sliceId}`)).body;
    const took = Date.parse(slice.endedAt ?? '') - Date.parse(slice.startedAt ?? '');
    console.log(`${indent}slice ${slice.slice?.label ?? sliceId}: ${round(took / 1000)} s, ${slice.status}`);
    await printJobTimings(service, slice, `${indent}  `);
  }
  const timings = job.timings;
  if (!timings) return;
  if (timings.phases.length)
    console.log(
      `${indent}phases: ${timings.phases.map((p) => `${p.name} ${round(p.ms / 1000)} s`).join(', ')}`,
    );
  for (const run of timings.runs) {
    const slowest = [...run.tasks].sort((a, b) => b.wallMs - a.wallMs).slice(0, 8);
    console.log(
      `${indent}${run.playbook}: ${round(run.wallMs / 1000)} s (start-up ${round(run.startupMs / 1000)} s), ${run.tasks.length} tasks; slowest:`,
    );
    for (const task of slowest)
      console.log(
        `${indent}  ${round(task.wallMs / 1000)} s  ${task.task.slice(0, 70)} (${task.hosts} hosts, max ${round(task.maxMs / 1000)} s)`,
      );
  }
}

/** The code of `ref` in a directory of its own (git archive, no worktree), with this repository's node_modules. */
async function extractBaseline(ref: string): Promise<string> {
  const dir = path.join(work, 'baseline');
  await mkdir(dir, { recursive: true });
  const tar = path.join(work, 'baseline.tar');
  execFileSync('git', ['-C', ROOT, 'archive', `--output=${tar}`, '--', ref]);
  execFileSync('tar', ['-x', '-f', tar, '-C', dir]);
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // It runs compiled code (dist/) when its package.json says so.
  const scripts = (
    JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
  ).scripts;
  if (scripts?.build) execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'inherit' });
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', ref]).toString().trim();
  console.log(`  today's code: ${ref} (${commit}) in ${dir}`);
  return dir;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}
