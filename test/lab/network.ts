import { execa } from 'execa';
import type { LabPlan } from './plan.ts';

/**
 * `ip -batch` scripts that build the plan's network: one for the root namespace (bridge, namespaces,
 * veth pairs) and one per VM namespace (addresses, VPC bridge on proxies). Pure, for unit tests.
 */
export function networkScripts(plan: LabPlan): { root: string[]; perNetns: Map<string, string[]> } {
  const root: string[] = [
    `link add ${plan.bridge} type bridge`,
    `addr add ${plan.controlAddress}/${plan.publicPrefix} dev ${plan.bridge}`,
    `link set ${plan.bridge} up`,
  ];
  const perNetns = new Map<string, string[]>();
  for (const vm of plan.vms) {
    root.push(`netns add ${vm.netns}`);
    perNetns.set(vm.netns, ['link set lo up']);
  }
  for (const link of plan.links) {
    const where = link.inNetns === undefined ? '' : ` netns ${link.inNetns}`;
    root.push(`link add ${link.name}${where} type veth peer name eth0 netns ${link.vmNetns}`);
    if (link.inNetns === undefined) {
      root.push(`link set ${link.name} master ${link.bridge}`, `link set ${link.name} up`);
    }
  }
  for (const vm of plan.vms) {
    const script = perNetns.get(vm.netns) as string[];
    if (vm.kind === 'proxy') {
      script.push(
        `addr add ${vm.publicAddress}/${plan.publicPrefix} dev eth0`,
        'link set eth0 up',
        'link add br0 type bridge',
        `addr add ${vm.vpcAddress}/26 dev br0`,
        'link set br0 up',
      );
      for (const link of plan.links.filter((l) => l.inNetns === vm.netns)) {
        script.push(`link set ${link.name} master br0`, `link set ${link.name} up`);
      }
    } else {
      script.push(
        `addr add ${vm.publicAddress ?? vm.vpcAddress}/${vm.kind === 'direct' ? plan.publicPrefix : 26} dev eth0`,
        'link set eth0 up',
      );
    }
  }
  return { root, perNetns };
}

/** Creates the network: the root batch first, then every namespace's batch. */
export async function buildNetwork(plan: LabPlan): Promise<void> {
  const { root, perNetns } = networkScripts(plan);
  await runBatch(undefined, root);
  await Promise.all([...perNetns].map(([netns, script]) => runBatch(netns, script)));
}

async function runBatch(netns: string | undefined, lines: string[]): Promise<void> {
  const args = netns === undefined ? ['-batch', '-'] : ['-n', netns, '-batch', '-'];
  await execa('ip', args, { input: lines.join('\n') + '\n' });
}
