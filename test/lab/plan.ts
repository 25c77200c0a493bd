/**
 * The lab's addressing plan, pure so it can be unit-tested: which VM gets which address, namespace
 * and interface names. Only documentation ranges are used (RFC 5737).
 *
 * - Public segment: slot `s` owns 203.0.113.(32s)/27; the control plane (this machine) is `.32s+1`,
 *   then one address per VPC proxy, then the directly reachable VMs.
 * - VPC `i` is a /26 from 198.51.100.0/24 then 192.0.2.0/24; the proxy is `.1`, targets follow.
 *   VPC bridges live inside the proxy's namespace, so the control plane has no path into a VPC.
 */
export interface LabShape {
  slot: number;
  vpcs: number;
  vmsPerVpc: number;
  directVms: number;
}

export type VmKind = 'proxy' | 'target' | 'direct';

export interface PlannedVm {
  name: string;
  kind: VmKind;
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
  check('slot', slot, 0, MAX_SLOT);
  check('vpcs', vpcs, 0, VPC_BLOCKS.length);
  check('vmsPerVpc', vmsPerVpc, 0, MAX_TARGETS_PER_VPC);
  check('directVms', directVms, 0, PUBLIC_SIZE - 3 - vpcs);

  const prefix = slotPrefixes(slot);
  const publicBase = slot * PUBLIC_SIZE;
  const publicAt = (offset: number) => `203.0.113.${publicBase + offset}`;
  const bridge = `${prefix.link}pub`;
  const vms: PlannedVm[] = [];
  const links: LabPlan['links'] = [];

  for (let i = 0; i < vpcs; i++) {
    const vpc = `vpc${i + 1}`;
    const block = VPC_BLOCKS[i] as string;
    const [a, b, c, d] = block.split('.').map(Number) as [number, number, number, number];
    const vpcAt = (offset: number) => `${a}.${b}.${c}.${d + offset}`;
    const vpcCidr = `${block}/26`;
    const proxy: PlannedVm = {
      name: `${vpc}-proxy`,
      kind: 'proxy',
      netns: `${prefix.netns}${vpc}-proxy`,
      vpc,
      vpcCidr,
      publicAddress: publicAt(2 + i),
      vpcAddress: vpcAt(1),
    };
    vms.push(proxy);
    links.push({ name: `${prefix.link}p${i}`, inNetns: undefined, bridge, vmNetns: proxy.netns });
    for (let j = 0; j < vmsPerVpc; j++) {
      const target: PlannedVm = {
        name: `${vpc}-vm${j + 1}`,
        kind: 'target',
        netns: `${prefix.netns}${vpc}-vm${j + 1}`,
        vpc,
        vpcCidr,
        publicAddress: undefined,
        vpcAddress: vpcAt(2 + j),
      };
      vms.push(target);
      links.push({
        name: `${prefix.link}v${i}t${j}`,
        inNetns: proxy.netns,
        bridge: 'br0',
        vmNetns: target.netns,
      });
    }
  }
  for (let k = 0; k < directVms; k++) {
    const vm: PlannedVm = {
      name: `direct${k + 1}`,
      kind: 'direct',
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

function check(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `lab ${field}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
}
