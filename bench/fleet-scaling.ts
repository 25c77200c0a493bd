// Bench 4, fleet scaling: playbooks/deploy-agent.yml to 5, 10, 20 and 40 lab VMs behind one proxy, with
// Outpost's generated inventory (writeProjectInventory: ProxyJump through a ControlMaster connection to
// the proxy, pipelining from ansible.cfg) vs a naive one (ProxyCommand `ssh -W %h:%p proxy`: a new proxy
// connection per host connection, pipelining off), same playbook and vars, plain ansible-playbook for
// both, alternating per size. A first run installs the agent everywhere and is not counted, so measured
// runs are re-deploys (facts, package check, config template, service): the SSH round trips dominate.
// sshd's default MaxStartups (10:30:100) on the proxy may refuse some naive connections: failures are
// reported, not hidden.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startRedis } from '../test/support/redis.ts';
import { PROJECT, runPlain, setupFleet, writeVars, type PlainRun } from './support/lab-fleet.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { printTable, readFlags, ROOT, writeResult } from './support/report.ts';
import { round } from './support/stats.ts';

const flags = readFlags({ sizes: '5,10,20,40', rounds: 1, slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0) });
const sizes = flags.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 61))
  throw new Error(`--sizes: expected 1..61, got ${flags.sizes}`);
const machine = machineInfo();
console.log(`fleet scaling: sizes ${sizes.join(', ')}; ${describeMachine(machine)}`);

const redis = await startRedis();
const fleet = await setupFleet({ slot: flags.slot, targets: Math.max(...sizes), redisUrl: redis.url });
const playbook = path.join(ROOT, 'playbooks/deploy-agent.yml');
const vars = await writeVars(fleet.dir, 'deploy-vars', fleet.deployVars);

/** A naive inventory: ProxyCommand per host, no shared proxy connection, no pipelining. */
async function writeNaive(): Promise<string> {
  const key = path.join(fleet.dir, 'naive-key');
  await writeFile(key, await fleet.keys.projectPrivateKey(PROJECT), { mode: 0o600 });
  const knownHosts = path.join(fleet.dir, 'naive-known-hosts');
  await writeFile(
    knownHosts,
    [
      `${fleet.proxy.publicAddress ?? ''} ${fleet.proxy.hostKey}`,
      ...fleet.targets.map((vm) => `${vm.vpcAddress ?? ''} ${vm.hostKey}`),
    ].join('\n') + '\n',
  );
  const common = `-o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`;
  const inventory = {
    all: {
      hosts: Object.fromEntries(fleet.targets.map((vm) => [vm.name, { ansible_host: vm.vpcAddress }])),
      vars: {
        ansible_user: 'cloudroot',
        ansible_ssh_private_key_file: key,
        ansible_pipelining: false,
        ansible_ssh_common_args: `${common} -o ProxyCommand="ssh -W %h:%p -i ${key} ${common} -o ControlMaster=no -o ControlPath=none cloudroot@${fleet.proxy.publicAddress ?? ''}"`,
      },
    },
  };
  const file = path.join(fleet.dir, 'naive-hosts.json');
  await writeFile(file, JSON.stringify(inventory, null, 2));
  return file;
}

type Way = 'outpost' | 'naive';
const runs: {
  size: number;
  way: Way;
  round: number;
  seconds: number;
  exitCode: number;
  failedHosts: string[];
  failures: string[];
}[] = [];

async function runWay(way: Way, size: number, round: number): Promise<PlainRun & { failedHosts: string[] }> {
  const limit = fleet.targets
    .slice(0, size)
    .map((vm) => vm.name)
    .join(',');
  const generated = way === 'outpost' ? await fleet.generatedInventory() : undefined;
  try {
    const inventory = generated?.hostsFile ?? (await writeNaive());
    const run = await runPlain(
      inventory,
      playbook,
      vars,
      path.join(fleet.dir, `cp-${way}-${size}-${round}`),
      ['--limit', limit],
    );
    const failedHosts = [...run.recap.matchAll(/^(\S+)\s+:.*?(?:unreachable=([1-9])|failed=([1-9]))/gm)].map(
      (m) => m[1] ?? '',
    );
    return { ...run, failedHosts };
  } finally {
    await generated?.cleanup();
  }
}

try {
  const warm = await runWay('outpost', Math.max(...sizes), 0);
  console.log(
    `  first deploy to ${Math.max(...sizes)} VMs (installs, not counted): ${round(warm.seconds)} s, exit ${warm.exitCode}`,
  );
  if (warm.exitCode !== 0) console.log(warm.tail);
  for (const size of sizes) {
    for (let r = 0; r < flags.rounds; r++) {
      const order: Way[] = (sizes.indexOf(size) + r) % 2 === 0 ? ['outpost', 'naive'] : ['naive', 'outpost'];
      for (const way of order) {
        const run = await runWay(way, size, r + 1);
        runs.push({
          size,
          way,
          round: r + 1,
          seconds: run.seconds,
          exitCode: run.exitCode,
          failedHosts: run.failedHosts,
          failures: run.failures,
        });
        console.log(
          `  ${size} VMs ${way}: ${round(run.seconds)} s, exit ${run.exitCode}${run.failedHosts.length ? `, failed/unreachable: ${run.failedHosts.join(' ')}` : ''}`,
        );
        for (const line of run.failures) console.log(`    ${line}`);
      }
    }
  }
} finally {
  await fleet.close();
  await redis.stop();
}

const mean = (size: number, way: Way): number => {
  const xs = runs.filter((r) => r.size === size && r.way === way).map((r) => r.seconds);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const table = sizes.map((size) => ({
  vms: size,
  outpostSeconds: round(mean(size, 'outpost')),
  naiveSeconds: round(mean(size, 'naive')),
  naiveOverOutpost: round(mean(size, 'naive') / mean(size, 'outpost')),
  outpostFailedHosts: runs
    .filter((r) => r.size === size && r.way === 'outpost')
    .reduce((n, r) => n + r.failedHosts.length, 0),
  naiveFailedHosts: runs
    .filter((r) => r.size === size && r.way === 'naive')
    .reduce((n, r) => n + r.failedHosts.length, 0),
}));
printTable(`deploy-agent wall seconds by fleet size (${flags.rounds} alternating round(s))`, table);
const largest = table.at(-1);
const verdict = {
  at: largest?.vms,
  speedup: largest?.naiveOverOutpost,
  target: 2,
  meetsTarget: (largest?.naiveOverOutpost ?? 0) >= 2,
};
printTable('verdict', [verdict]);
await writeResult('fleet-scaling', machine, { flags, runs, table, verdict });
