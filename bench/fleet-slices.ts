// Bench: a sliced deploy over a fleet (issue 16: 4 VPCs x 50 VMs = 200). A lab of `--vpcs` VPCs x `--vms`
// VMs behind one proxy each, cloudroot on every VM, proxies prepared as prepare-proxy leaves them. One
// `outpost serve` (api, worker, tunnels) on its own Redis and an external InfluxDB; a second worker process
// (`--role worker`) joins for the two-worker runs. A first deploy installs the agent everywhere and is not
// counted; each measured run is `options.full` (the play on every host, in `--slice-size` slices), timed
// from POST to the job's end, i.e. until every host reports (the deploy proves each host's first point).
// One worker and two workers alternate `--rounds` times. With `--fresh 1`, each timed run is a first install
// instead: a new lab, Redis and services for every run, and the deploy without `full` (what a new fleet
// costs; the redeploy of an installed fleet is the default). Each worker takes `--concurrency` slices at once
// and each proxy serves 2 (options.proxyConcurrency): with 4 VPCs and slices of 25, one worker runs 4 of
// the 8 slices at once, two run all 8. On one 2-core machine both workers share the same cores, so
// the second worker shows what the queue shares, not what a second machine would add.
import os from 'node:os';
import path from 'node:path';
import { down, up, type Lab } from '../test/lab/lab.ts';
import { createCloudroot } from '../test/integration/inventory/reach-lab.ts';
import { startOutpost, type OutpostProcess } from '../test/integration/http/start-outpost.ts';
import { startInflux } from '../test/support/influx.ts';
import { labEntities } from '../test/support/lab-entities.ts';
import { startRedis } from '../test/support/redis.ts';
import { buildTelegrafDeb } from '../test/support/telegraf-deb.ts';
import type { JobRecord } from '../src/queue/job-record.ts';
import { createBenchScratch } from './support/bench-scratch.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { api, startService, submitJob, waitForEnd, type BenchService } from './support/outpost-service.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { nowMs, round } from './support/stats.ts';

const flags = readFlags({
  vpcs: 4,
  vms: 50,
  sliceSize: 25,
  concurrency: 4,
  rounds: 1,
  fresh: 0,
  slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0),
});
// test/lab/plan.ts: 8 VPC blocks of at most 61 targets each.
if (!Number.isInteger(flags.vpcs) || flags.vpcs < 1 || flags.vpcs > 8)
  throw new Error(`--vpcs: expected 1..8, got ${flags.vpcs}`);
if (!Number.isInteger(flags.vms) || flags.vms < 1 || flags.vms > 61)
  throw new Error(`--vms: expected 1..61, got ${flags.vms}`);
const PROJECT = 'fleet';
const MASTER_KEY = '0'.repeat(63) + '1';
const machine = machineInfo();
const fresh = flags.fresh === 1;
console.log(
  `fleet slices: ${flags.vpcs} VPCs x ${flags.vms} VMs, slices of ${flags.sliceSize}, ${flags.concurrency} per worker, ${flags.rounds} round(s), ${fresh ? 'each run a first install on a fresh lab' : 'each run a full redeploy'}; ${describeMachine(machine)}`,
);

interface Sample {
  workers: number;
  round: number;
  seconds: number;
  status: string;
  hosts: number;
  reporting: number;
  slices: number;
  workersUsed: number;
  loadAtStart: number;
}

const scratch = await createBenchScratch('fleet-slices');
const samples: Sample[] = [];
try {
  const influx = await startInflux();
  scratch.defer(() => influx.stop());
  const debDir = path.join(scratch.dir, 'debs');
  await buildTelegrafDeb({ outDir: debDir });
  const env = {
    OUTPOST_INFLUX_URL: influx.url,
    OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
    OUTPOST_TELEGRAF_PACKAGE_DIR: debDir,
    OUTPOST_UPLINK_WAIT_SECONDS: '60',
    OUTPOST_VERIFY_SECONDS: '180',
    OUTPOST_MASTER_KEY: MASTER_KEY,
    OUTPOST_WORKER_CONCURRENCY: String(flags.concurrency),
    // Jobs started and ended in the service's log: a run that stalls says where.
    OUTPOST_LOG_LEVEL: 'info',
    // The service's default, for both workers: the second is started by the tests' helper, whose 1.5 s
    // heartbeat had the main node take it for dead at load 132 (run E).
    OUTPOST_WORKER_HEARTBEAT_MS: '30000',
  };
  scratch.defer(() => down(flags.slot));
  let fleet = fresh ? undefined : await startFleet('a', env);
  if (fleet) {
    const first = await deploy(fleet.main, false);
    console.log(
      `  first deploy (not counted): ${first.job.status} in ${round(first.seconds)} s, ${first.reporting} reporting`,
    );
  }
  for (let round_ = 1; round_ <= flags.rounds; round_ += 1) {
    for (const workers of [1, 2]) {
      if (fresh) {
        await fleet?.stop();
        fleet = await startFleet(`r${round_}w${workers}`, env);
      }
      if (!fleet) throw new Error('no fleet');
      const service = fleet.main;
      let second: OutpostProcess | undefined;
      if (workers === 2) {
        second = await startOutpost({
          redisUrl: fleet.redisUrl,
          varDir: path.join(scratch.dir, `var-b-r${round_}`),
          roles: ['worker'],
          name: 'b',
          env,
        });
        scratch.defer(() => second?.stop() ?? Promise.resolve());
      }
      try {
        const loadAtStart = round(os.loadavg()[0] ?? 0);
        const run = await deploy(service, !fresh);
        const slices = await Promise.all(
          (run.job.slices ?? []).map(
            async (id) => (await api<JobRecord>(service.url, 'GET', `/v1/jobs/${id}`)).body,
          ),
        );
        samples.push({
          workers,
          round: round_,
          seconds: round(run.seconds),
          status: run.job.status,
          hosts: fleet.hosts,
          reporting: run.reporting,
          slices: slices.length,
          workersUsed: new Set(slices.map((slice) => slice.worker)).size,
          loadAtStart,
        });
        console.log(
          `  ${workers} worker(s), round ${round_}: ${run.job.status} in ${round(run.seconds)} s, ${run.reporting} reporting${run.job.reason ? ` (${run.job.reason})` : ''}`,
        );
      } finally {
        await second?.stop();
      }
    }
  }
  await fleet?.stop();
  const base = samples.filter((s) => s.workers === 1).map((s) => s.seconds);
  const baseline = base.reduce((a, b) => a + b, 0) / Math.max(1, base.length);
  printTable(
    `sliced deploy to every VM (${fresh ? 'a first install on a fresh lab' : '--full'}), seconds until all report`,
    samples.map((s) => ({ ...s, 'vs 1 worker': round(baseline / s.seconds) })),
  );
  await writeResult('fleet-slices', machine, { flags, samples });
} finally {
  await scratch.teardown();
}

/**
 * A lab of `--vpcs` x `--vms` (its proxies as prepare-proxy leaves them), its own Redis and one `outpost
 * serve` (all roles), the project registered with cloudroot on every VM. `stop` takes all of it down.
 */
async function startFleet(
  name: string,
  env: Record<string, string>,
): Promise<{ main: BenchService; redisUrl: string; hosts: number; stop: () => Promise<void> }> {
  const started = nowMs();
  const redis = await startRedis();
  scratch.defer(() => redis.stop().catch(() => undefined));
  await down(flags.slot);
  const lab = await up({ slot: flags.slot, vpcs: flags.vpcs, vmsPerVpc: flags.vms, directVms: 0 });
  // Proxies as prepare-proxy leaves them (roles/ssh_proxy_node): uplinks, keepalives, many jumps at once.
  for (const proxy of lab.proxies())
    await lab.sh(
      proxy,
      `printf 'GatewayPorts clientspecified\\nClientAliveInterval 15\\nClientAliveCountMax 3\\nMaxStartups 100:30:200\\nMaxSessions 50\\n' > /etc/ssh/sshd_config.d/10-outpost-proxy.conf
sshd -t && kill -HUP "$(cat /run/sshd.pid)"`,
    );
  const main = await startService({
    redisUrl: redis.url,
    varDir: path.join(scratch.dir, `var-${name}`),
    env,
  });
  scratch.defer(() => main.stop().catch(() => undefined));
  await register(main, lab);
  console.log(`  lab of ${lab.targets().length} VMs ready in ${Math.round((nowMs() - started) / 1000)} s`);
  return {
    main,
    redisUrl: redis.url,
    hosts: lab.targets().length,
    async stop() {
      await main.stop();
      await redis.stop();
      await down(flags.slot);
    },
  };
}

/** One sliced deploy-agent job to every host of the project, timed from POST to its end. */
async function deploy(
  service: BenchService,
  full: boolean,
): Promise<{ job: JobRecord; seconds: number; reporting: number }> {
  const begun = nowMs();
  const id = await submitJob(service.url, {
    kind: 'deploy-agent',
    project: PROJECT,
    options: { sliceSize: flags.sliceSize, ...(full ? { full: true } : {}) },
  });
  const job = (await waitForEnd(service.url, id, 3_600_000)) as unknown as JobRecord;
  const seconds = (nowMs() - begun) / 1000;
  const reporting = Object.values(job.result ?? {}).filter(
    (line) => (line as { agent?: { state: string } }).agent?.state === 'reporting',
  ).length;
  return { job, seconds, reporting };
}

/** Registers the project, its proxies and VMs (keys pinned), and cloudroot on every VM with its keys. */
async function register(service: BenchService, lab: Lab): Promise<void> {
  const created = await api<{ publicKeys: { admin: string; project: string } }>(
    service.url,
    'POST',
    '/v1/projects',
    { id: PROJECT },
  );
  if (created.status !== 201) throw new Error(`project: ${created.status} ${JSON.stringify(created.body)}`);
  const keys = [created.body.publicKeys.admin, created.body.publicKeys.project];
  const vms = [...lab.vms];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let vm = vms.shift(); vm; vm = vms.shift()) await createCloudroot(lab, vm, keys);
    }),
  );
  const { proxies, hosts } = labEntities(lab, PROJECT);
  for (const [kind, body] of [
    ...proxies.map((b) => ['proxies', b] as const),
    ...hosts.map((b) => ['hosts', b] as const),
  ]) {
    const response = await api(service.url, 'POST', `/v1/${kind}`, body);
    if (response.status !== 201)
      throw new Error(`${kind} ${body.id}: ${response.status} ${JSON.stringify(response.body)}`);
  }
}
