/**
 * The lab's addressing plan, pure so it can be unit-tested: which VM gets which address, namespace
 * and interface names. Only documentation ranges are used (RFC 5737).
 *
 * - Public segment: slot `s` owns 203.0.113.(32s)/27; the control plane (this machine) is `.32s+1`,
 *   then one address per VPC proxy, then the directly reachable VMs.
 * - VPC `i` is a /26 from 198.51.100.0/24 then 192.0.2.0/24; the proxy is `.1`, targets follow.
 *   VPC bridges live inside the proxy's namespace, so the control plane has no path into a VPC.
 * - Extra RedHat-family simulation targets (`redhatSim`) go round-robin over the VPCs, named
 *   `vpcN-rhM`, addressed after each VPC's own targets and listed after every VPC's own VMs.
 */
export interface LabShape {
  slot: number;
  vpcs: number;
  vmsPerVpc: number;
  directVms: number;
  /** Family of the VMs above. Default `debian`. */
  osFamily?: OsFamily;
  /** Extra `redhat-sim` target VMs, spread over the VPCs. Default 0. */
  redhatSim?: number;
}

export type VmKind = 'proxy' | 'target' | 'direct';

/**
 * What a VM's own root looks like. `redhat-sim` is a SIMULATION of a RHEL 9 clone (RedHat-family
 * facts, real rpm and dnf, an `sshd` service, apt out of the way) over this Debian machine's files.
 */
export type OsFamily = 'debian' | 'redhat-sim';
export const OS_FAMILIES: readonly OsFamily[] = ['debian', 'redhat-sim'];

export interface PlannedVm {
  name: string;
  kind: VmKind;
  osFamily: OsFamily;
  netns: string;
  vpc: string | undefined;
  vpcCidr: string | undefined;
  /** On the public segment (proxies and direct VMs). */
  publicAddress: string | undefined;
  /** Inside the VPC (proxies and targets). */
  vpcAddress: string | undefined;
}

export interface LabPlan {
  slot: number;
  /** Host-side bridge of the public segment. */
  bridge: string;
  controlAddress: string;
  publicPrefix: number;
  /** The public segment, e.g. `203.0.113.160/27` for slot 5. */
  publicCidr: string;
  vms: PlannedVm[];
  /** veth pairs to create: `hostSide` in the root namespace (or in `hostNetns`), `vmSide` becomes eth0 in `vmNetns`. */
  links: { name: string; inNetns: string | undefined; bridge: string; vmNetns: string }[];
}

const VPC_BLOCKS = [
  '198.51.100.0',
  '198.51.100.64',
  '198.51.100.128',
  '198.51.100.192',
  '192.0.2.0',
  '192.0.2.64',
  '192.0.2.128',
  '192.0.2.192',
];
export const MAX_SLOT = 7;
const MAX_TARGETS_PER_VPC = 61;
const PUBLIC_SIZE = 32;

/** Every name the lab creates for `slot` starts with these prefixes; teardown removes by prefix. */
export function slotPrefixes(slot: number): { netns: string; link: string } {
  return { netns: `olab${slot}-`, link: `ol${slot}` };
}

export function planLab(shape: LabShape): LabPlan {
  const { slot, vpcs, vmsPerVpc, directVms } = shape;
  const osFamily = shape.osFamily ?? 'debian';
  const redhatSim = shape.redhatSim ?? 0;
  check('slot', slot, 0, MAX_SLOT);
  check('vpcs', vpcs, 0, VPC_BLOCKS.length);
  check('vmsPerVpc', vmsPerVpc, 0, MAX_TARGETS_PER_VPC);
  check('directVms', directVms, 0, PUBLIC_SIZE - 3 - vpcs);
  if (vpcs === 0 && redhatSim !== 0) {
    throw new RangeError(
      `lab redhatSim: these VMs go into VPCs and the lab has none, got ${JSON.stringify(redhatSim)}`,
    );
  }
  // Round-robin: the first VPCs hold one more than the others.
  check('redhatSim', redhatSim, 0, vpcs * (MAX_TARGETS_PER_VPC - vmsPerVpc));
  if (!OS_FAMILIES.includes(osFamily)) {
    throw new RangeError(
      `lab osFamily: expected one of ${OS_FAMILIES.join(', ')}, got ${JSON.stringify(osFamily)}`,
    );
  }

  const prefix = slotPrefixes(slot);
  const publicBase = slot * PUBLIC_SIZE;
  const publicAt = (offset: number) => `203.0.113.${publicBase + offset}`;
  const bridge = `${prefix.link}pub`;
  const vms: PlannedVm[] = [];
  const links: LabPlan['links'] = [];
  const target = (i: number, j: number, name: string, family: OsFamily): PlannedVm => {
    const { vpc, vpcCidr, vpcAt } = vpcBlock(i);
    const vm: PlannedVm = {
      name: `${vpc}-${name}`,
      kind: 'target',
      osFamily: family,
      netns: `${prefix.netns}${vpc}-${name}`,
      vpc,
      vpcCidr,
      publicAddress: undefined,
      vpcAddress: vpcAt(2 + j),
    };
    links.push({
      name: `${prefix.link}v${i}t${j}`,
      inNetns: `${prefix.netns}${vpc}-proxy`,
      bridge: 'br0',
      vmNetns: vm.netns,
    });
    return vm;
  };

  for (let i = 0; i < vpcs; i++) {
    const { vpc, vpcCidr, vpcAt } = vpcBlock(i);
    const proxy: PlannedVm = {
      name: `${vpc}-proxy`,
      kind: 'proxy',
      osFamily,
      netns: `${prefix.netns}${vpc}-proxy`,
      vpc,
      vpcCidr,
      publicAddress: publicAt(2 + i),
      vpcAddress: vpcAt(1),
    };
    vms.push(proxy);
    links.push({ name: `${prefix.link}p${i}`, inNetns: undefined, bridge, vmNetns: proxy.netns });
    for (let j = 0; j < vmsPerVpc; j++) vms.push(target(i, j, `vm${j + 1}`, osFamily));
  }
  for (let k = 0; k < redhatSim; k++) {
    const i = k % vpcs;
    const m = Math.floor(k / vpcs);
    vms.push(target(i, vmsPerVpc + m, `rh${m + 1}`, 'redhat-sim'));
  }
  for (let k = 0; k < directVms; k++) {
    const vm: PlannedVm = {
      name: `direct${k + 1}`,
      kind: 'direct',
      osFamily,
      netns: `${prefix.netns}direct${k + 1}`,
      vpc: undefined,
      vpcCidr: undefined,
      publicAddress: publicAt(2 + vpcs + k),
      vpcAddress: undefined,
    };
    vms.push(vm);
    links.push({ name: `${prefix.link}d${k}`, inNetns: undefined, bridge, vmNetns: vm.netns });
  }
  return {
    slot,
    bridge,
    controlAddress: publicAt(1),
    publicPrefix: 27,
    publicCidr: `${publicAt(0)}/27`,
    vms,
    links,
  };
}

/** Name, CIDR and addresses of VPC `i` (0-based). */
function vpcBlock(i: number): { vpc: string; vpcCidr: string; vpcAt: (offset: number) => string } {
  const block = VPC_BLOCKS[i] as string;
  const [a, b, c, d] = block.split('.').map(Number) as [number, number, number, number];
  return { vpc: `vpc${i + 1}`, vpcCidr: `${block}/26`, vpcAt: (offset) => `${a}.${b}.${c}.${d + offset}` };
}

function check(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `lab ${field}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
}
