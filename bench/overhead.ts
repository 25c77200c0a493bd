// Bench 3, overhead against plain Ansible: playbooks/deploy-agent.yml on the same lab VMs (one proxy,
// --vms VMs behind it), through Outpost (POST /v1/jobs run-playbook playbooks/deploy-agent.yml -> the
// job's end entry at an SSE client: queue, run dir, registry inventory, runner, event log; the
// `deploy-agent` kind adds uplink checks and waits for first metrics, which plain Ansible does not do, so
// it is not the comparison) vs `ansible-playbook -i <generated inventory>/hosts.yml` by hand (Outpost's writeProjectInventory,
// a fresh dir and control sockets per run, as a new job gets), alternating, --rounds times each. A first
// Outpost deploy installs the agent and is not counted: the measured runs are re-deploys (idempotent).
// Deploy vars: the offline Telegraf stand-in, an output URL on a lab address, no /ping check (uplinks are
// the uplink jobs' part and not needed to time the play).
import path from 'node:path';
import { startRedis } from '../test/support/redis.ts';
import { setupFleet, runPlain, writeVars, PROJECT } from './support/lab-fleet.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { startService, submitJob, waitForEnd } from './support/outpost-service.ts';
import { printTable, readFlags, ROOT, writeResult } from './support/report.ts';
import { followSse } from './support/sse-client.ts';
import { nowMs, round, spread, summarize } from './support/stats.ts';

const flags = readFlags({ vms: 4, rounds: 3, slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0) });
const machine = machineInfo();
console.log(
  `overhead vs plain ansible-playbook: deploy-agent on ${flags.vms} VMs behind a proxy; ${describeMachine(machine)}`,
);

const redis = await startRedis();
const fleet = await setupFleet({ slot: flags.slot, targets: flags.vms, redisUrl: redis.url });
const service = await startService({ redisUrl: redis.url, varDir: path.join(fleet.dir, 'var') });
const runs = { outpost: [] as number[], plain: [] as number[] };
const hosts = fleet.targets.map((vm) => vm.name);

async function viaOutpost(): Promise<number> {
  const start = nowMs();
  const job = await submitJob(service.url, {
    kind: 'run-playbook',
    playbook: 'playbooks/deploy-agent.yml',
    project: PROJECT,
    hosts,
    options: { extraVars: fleet.deployVars },
  });
  const seen = await followSse(service.url, job).done;
  const seconds = ((seen.lastAt ?? nowMs()) - start) / 1000;
  const record = await waitForEnd(service.url, job);
  if (record.status !== 'successful') {
    throw new Error(`deploy playbook job ${job} ended ${String(record.status)}: ${String(record.reason)}`);
  }
  return seconds;
}

async function byHand(round: number): Promise<number> {
  const inventory = await fleet.generatedInventory();
  try {
    const vars = await writeVars(inventory.dir, 'deploy-vars', fleet.deployVars);
    const run = await runPlain(
      inventory.hostsFile,
      path.join(ROOT, 'playbooks/deploy-agent.yml'),
      vars,
      path.join(inventory.dir, `cp-${round}`),
    );
    if (run.exitCode !== 0) throw new Error(`plain ansible-playbook failed (${run.exitCode}):\n${run.tail}`);
    return run.seconds;
  } finally {
    await inventory.cleanup();
  }
}

try {
  const warm = await viaOutpost();
  console.log(`  first deploy (installs, not counted): ${round(warm)} s`);
  for (let r = 0; r < flags.rounds; r++) {
    const order: ('outpost' | 'plain')[] = r % 2 === 0 ? ['outpost', 'plain'] : ['plain', 'outpost'];
    for (const way of order) {
      const seconds = way === 'outpost' ? await viaOutpost() : await byHand(r);
      runs[way].push(seconds);
      console.log(`  round ${r + 1} ${way}: ${round(seconds)} s`);
    }
  }
} finally {
  await service.stop();
  await fleet.close();
  await redis.stop();
}

const o = summarize(runs.outpost);
const p = summarize(runs.plain);
printTable(`deploy-agent on ${flags.vms} VMs, wall seconds (${flags.rounds} alternating rounds)`, [
  {
    way: 'Outpost job (POST -> end entry)',
    min: round(o.min),
    p50: round(o.p50),
    mean: round(o.mean),
    max: round(o.max),
    spread: round(spread(runs.outpost)),
  },
  {
    way: 'plain ansible-playbook',
    min: round(p.min),
    p50: round(p.p50),
    mean: round(p.mean),
    max: round(p.max),
    spread: round(spread(runs.plain)),
  },
]);
const verdict = {
  ratioOfMeans: round(o.mean / p.mean),
  ratioOfMins: round(o.min / p.min),
  target: 1.05,
  meetsTarget: o.mean / p.mean <= 1.05,
};
printTable('ratio Outpost / plain', [verdict]);
await writeResult('overhead', machine, { flags, runs, outpost: o, plain: p, verdict });
