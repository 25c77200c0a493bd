import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildNetwork } from './network.ts';
import { planLab, type OsFamily, type PlannedVm } from './plan.ts';
import { buildSimBaseRpm } from './redhat-sim.ts';
import { teardownSlot } from './teardown.ts';
import { bootVm, execInVm, type ExecResult } from './vm.ts';
import { recordTestSecret } from '../support/test-evidence.ts';

export type { ExecResult } from './vm.ts';

/** Options of {@link up}. */
export interface LabOptions {
  /** Isolates concurrent labs on one machine (0..7). Default: `OUTPOST_LAB_SLOT` or 0. */
  slot?: number;
  /** VPCs, each with a proxy VM. Default 1. */
  vpcs?: number;
  /** Target VMs per VPC (VPC address only). Default 2. */
  vmsPerVpc?: number;
  /** VMs reachable directly from the control plane. Default 0. */
  directVms?: number;
  /** Family of the VMs above: `debian`, or `redhat-sim` (a simulated RHEL 9 clone, see redhat-sim.ts). Default debian. */
  osFamily?: OsFamily;
  /** Extra `redhat-sim` targets `vpcN-rhM`, round-robin over the VPCs. Default 0. */
  redhatSim?: number;
  /** Public key lines authorized for the default login user on every VM. Default none. */
  authorizedKeys?: string[];
  /** Host directory for logs and state. Default `/var/tmp/outpost-lab/slot<N>`. */
  dir?: string;
}

/** A running VM of the lab. */
export interface LabVm extends PlannedVm {
  /** `publicAddress ?? vpcAddress`: where its sshd is reached from its own network. */
  address: string;
  port: 22;
  /** The VM's own host key, `ssh-ed25519 AAAA...`. */
  hostKey: string;
  /** Host pid of the VM's PID 1. */
  pid: number;
}

export interface Lab {
  slot: number;
  dir: string;
  /** Default login user of every VM (in group sudo; sudo asks for the password), like a cloud image's. */
  user: string;
  password: string;
  /** This machine's address on the public segment. */
  controlAddress: string;
  vms: LabVm[];
  proxies(): LabVm[];
  targets(vpc?: string): LabVm[];
  directs(): LabVm[];
  vm(name: string): LabVm;
  /** Runs a shell command as root inside a VM. */
  exec(vm: LabVm | string, command: string, options?: { input?: string }): Promise<ExecResult>;
  /** Like exec, but throws on a non-zero exit and returns stdout. */
  sh(vm: LabVm | string, command: string, options?: { input?: string }): Promise<string>;
  down(): Promise<void>;
}

export const LAB_USER = 'debian';

export function defaultSlot(): number {
  return Number(process.env.OUTPOST_LAB_SLOT ?? 0);
}

export function slotDir(slot: number): string {
  return `/var/tmp/outpost-lab/slot${slot}`;
}

/** Builds a lab: a simulated multi-cloud network of VMs with their own sshd. Cleans a stale lab in the same slot first. */
export async function up(options: LabOptions = {}): Promise<Lab> {
  const slot = options.slot ?? defaultSlot();
  const plan = planLab({
    slot,
    vpcs: options.vpcs ?? 1,
    vmsPerVpc: options.vmsPerVpc ?? 2,
    directVms: options.directVms ?? 0,
    osFamily: options.osFamily ?? 'debian',
    redhatSim: options.redhatSim ?? 0,
  });
  const dir = options.dir ?? slotDir(slot);
  await teardownSlot(slot, dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir('/var/lib/outpost-lab-vm', { recursive: true });
  const password = randomBytes(12).toString('base64url');
  try {
    const redhatSimBaseRpm = plan.vms.some((vm) => vm.osFamily === 'redhat-sim')
      ? await buildSimBaseRpm(path.join(dir, 'redhat-sim'))
      : undefined;
    await buildNetwork(plan);
    const vms = await Promise.all(
      plan.vms.map(async (planned): Promise<LabVm> => {
        const booted = await bootVm(planned, {
          user: LAB_USER,
          password,
          authorizedKeys: options.authorizedKeys ?? [],
          logFile: path.join(dir, `${planned.name}.log`),
          redhatSimBaseRpm,
          controlAddress: plan.controlAddress,
        });
        return {
          ...planned,
          address: (planned.publicAddress ?? planned.vpcAddress) as string,
          port: 22,
          ...booted,
        };
      }),
    );
    const lab = makeLab({ slot, dir, password, controlAddress: plan.controlAddress, vms });
    // The state file lets `npm run lab -- status|exec` find a lab made by another process; the password stays out of it.
    await writeFile(
      path.join(dir, 'state.json'),
      JSON.stringify({ slot, controlAddress: plan.controlAddress, vms }, null, 2),
      { mode: 0o600 },
    );
    await writeFile(path.join(dir, 'password'), password, { mode: 0o600 });
    await recordTestSecret(password); // the secrets scan after the suite looks for it everywhere
    return lab;
  } catch (error) {
    await teardownSlot(slot, dir);
    throw error;
  }
}

/** Removes the lab in `slot`, made by this process or any other. */
export async function down(slot = defaultSlot(), dir = slotDir(slot)): Promise<void> {
  await teardownSlot(slot, dir);
}

/** Wraps lab state (fresh from {@link up}, or read back from its state file) with its operations. */
export function makeLab(state: {
  slot: number;
  dir: string;
  password: string;
  controlAddress: string;
  vms: LabVm[];
}): Lab {
  const find = (vm: LabVm | string): LabVm => {
    if (typeof vm !== 'string') return vm;
    const found = state.vms.find((candidate) => candidate.name === vm);
    if (found === undefined) throw new Error(`lab: no VM named ${JSON.stringify(vm)}`);
    return found;
  };
  const exec = (vm: LabVm | string, command: string, options: { input?: string } = {}) =>
    execInVm(find(vm).pid, command, options.input);
  return {
    ...state,
    user: LAB_USER,
    proxies: () => state.vms.filter((vm) => vm.kind === 'proxy'),
    targets: (vpc) => state.vms.filter((vm) => vm.kind === 'target' && (vpc === undefined || vm.vpc === vpc)),
    directs: () => state.vms.filter((vm) => vm.kind === 'direct'),
    vm: find,
    exec,
    async sh(vm, command, options) {
      const result = await exec(vm, command, options);
      if (result.exitCode !== 0) {
        throw new Error(
          `lab: \`${command}\` in ${find(vm).name} exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`,
        );
      }
      return result.stdout;
    },
    down: () => teardownSlot(state.slot, state.dir),
  };
}
