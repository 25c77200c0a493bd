/**
 * `npm run lab -- up|down|status|exec`: the lab for a person to poke at.
 * The lab outlives this command; `down` (or the next `up` in the same slot) removes it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { down, makeLab, slotDir, up, type LabVm } from './lab.ts';
import { MAX_SLOT, OS_FAMILIES, planLab, type LabPlan, type OsFamily } from './plan.ts';
import { listNetns } from './teardown.ts';
import { buildTelegrafDeb } from '../support/telegraf-deb.ts';
import { PACKAGE_KEY_NAME, buildSignedTelegrafRpm } from '../support/telegraf-rpm.ts';

const program = new Command('lab').description(
  'the Outpost test lab: a simulated multi-cloud VPC on this machine',
);
const slotOption = [
  '--slot <n>',
  'lab slot (0-7)',
  whole,
  Number(process.env.OUTPOST_LAB_SLOT ?? 0),
] as const;

program
  .command('up')
  .description('build a lab (replacing a lab in the same slot)')
  .option(...slotOption)
  .option('--vpcs <n>', 'VPCs, each with a proxy VM', whole, 1)
  .option('--vms <n>', 'target VMs per VPC', whole, 2)
  .option('--direct <n>', 'directly reachable VMs', whole, 0)
  .option('--os-family <family>', `family of the VMs above: ${OS_FAMILIES.join(' | ')}`, osFamily, 'debian')
  .option(
    '--redhat-sim <n>',
    'extra RedHat-family SIMULATION targets (vpcN-rhM), spread over the VPCs',
    whole,
    0,
  )
  .option('--authorized-key <line...>', 'public key lines for the default user')
  .action(
    async (options: {
      slot: number;
      vpcs: number;
      vms: number;
      direct: number;
      osFamily: OsFamily;
      redhatSim: number;
      authorizedKey?: string[];
    }) => {
      const started = Date.now();
      const lab = await up({
        slot: options.slot,
        vpcs: options.vpcs,
        vmsPerVpc: options.vms,
        directVms: options.direct,
        osFamily: options.osFamily,
        redhatSim: options.redhatSim,
        authorizedKeys: options.authorizedKey ?? [],
      });
      printVms(lab.vms);
      printNetworks(
        lab.vms,
        planLab({
          slot: options.slot,
          vpcs: options.vpcs,
          vmsPerVpc: options.vms,
          directVms: options.direct,
          osFamily: options.osFamily,
          redhatSim: options.redhatSim,
        }),
      );
      console.log(
        `\nup in ${Date.now() - started} ms; login ${lab.user} / password in ${path.join(lab.dir, 'password')}; control plane ${lab.controlAddress}`,
      );
    },
  );

program
  .command('down')
  .description('remove the lab in a slot, or in every slot')
  .option(...slotOption)
  .option('--all', 'every slot')
  .action(async (options: { slot: number; all?: boolean }) => {
    const slots = options.all === true ? [...Array(MAX_SLOT + 1).keys()] : [options.slot];
    for (const slot of slots) await down(slot);
  });

program
  .command('status')
  .description('list the VMs of a lab and whether each is running')
  .option(...slotOption)
  .action(async (options: { slot: number }) => {
    const lab = await load(options.slot);
    const namespaces = new Set(await listNetns());
    printVms(lab.vms, (vm) => (namespaces.has(vm.netns) && isAlive(vm.pid) ? 'running' : 'gone'));
  });

program
  .command('exec')
  .description('run a shell command as root inside a VM')
  .option(...slotOption)
  .argument('<vm>', 'VM name, e.g. vpc1-vm1')
  .argument(
    '<command...>',
    'command and arguments, run by sh -c; stdin is passed on (`exec vm1 sh < enroll.sh`)',
  )
  .action(async (vm: string, command: string[], options: { slot: number }) => {
    const lab = await load(options.slot);
    // A terminal on stdin would wait for typing: pass stdin only when it is a pipe or a file.
    const input = process.stdin.isTTY ? undefined : await readStdin();
    const result = await lab.exec(vm, command.join(' '), input === undefined ? {} : { input });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
  });

program
  .command('standin')
  .description('build the labelled Telegraf STAND-IN package (not Telegraf) for OUTPOST_TELEGRAF_PACKAGE_DIR')
  .argument('<dir>', 'directory to write telegraf_<version>_all.deb to')
  .option(
    '--rpm',
    `also the .rpm for redhat-sim VMs, signed by a new key written beside it as ${PACKAGE_KEY_NAME}`,
  )
  .action(async (dir: string, options: { rpm?: boolean }) => {
    const outDir = path.resolve(dir);
    console.log(await buildTelegrafDeb({ outDir }));
    if (options.rpm === true) console.log(await buildSignedTelegrafRpm(outDir));
  });

await program.parseAsync();

async function load(slot: number) {
  const dir = slotDir(slot);
  let state: { controlAddress: string; vms: LabVm[] };
  try {
    state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as typeof state;
  } catch {
    throw new Error(`no lab in slot ${slot}: run \`npm run lab -- up --slot ${slot}\``);
  }
  const password = await readFile(path.join(dir, 'password'), 'utf8');
  return makeLab({ slot, dir, password, ...state });
}

function printVms(vms: LabVm[], status?: (vm: LabVm) => string): void {
  for (const vm of vms) {
    const where = [
      vm.publicAddress && `public ${vm.publicAddress}`,
      vm.vpcAddress && `${vm.vpc} ${vm.vpcAddress}`,
    ]
      .filter(Boolean)
      .join(', ');
    console.log(
      [vm.name.padEnd(12), vm.kind.padEnd(7), vm.osFamily.padEnd(10), where.padEnd(40), status?.(vm) ?? '']
        .join(' ')
        .trimEnd(),
    );
  }
}

/** Each VPC's network CIDR (what `--network` takes when registering its proxy and hosts), and the public segment. */
function printNetworks(vms: LabVm[], plan: LabPlan): void {
  console.log('');
  for (const proxy of vms.filter((vm) => vm.kind === 'proxy'))
    console.log(
      `${String(proxy.vpc).padEnd(12)} network ${String(proxy.vpcCidr).padEnd(18)} proxy ${proxy.name}`,
    );
  console.log(
    `${'public'.padEnd(12)} network ${plan.publicCidr.padEnd(18)} control plane ${plan.controlAddress}`,
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function osFamily(value: string): OsFamily {
  const family = OS_FAMILIES.find((known) => known === value);
  if (family === undefined)
    throw new InvalidArgumentError(`expected one of ${OS_FAMILIES.join(', ')}, got ${JSON.stringify(value)}`);
  return family;
}

function whole(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}
