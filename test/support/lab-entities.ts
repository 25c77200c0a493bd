import type { Lab } from '../lab/lab.ts';

/** A registry body for a proxy or a host, as POST /v1/proxies|hosts (or Registry.create*) takes it. */
export type EntityBody = Record<string, unknown> & { id: string };

/**
 * The registry entries of a lab for `project`: each VPC's proxy with its network, VPC VMs matched to it
 * by network, direct VMs by their public address; every host key pinned, as enrollment would leave it,
 * unless `pinHostKeys` is false (first contact then records them).
 */
export function labEntities(
  lab: Lab,
  project: string,
  options: { pinHostKeys?: boolean } = {},
): { proxies: EntityBody[]; hosts: EntityBody[] } {
  const pin = options.pinHostKeys ?? true;
  const key = (hostKey: string) => (pin ? { hostKey } : {});
  return {
    proxies: lab.proxies().map((vm) => ({
      id: vm.name,
      project,
      publicAddress: vm.publicAddress,
      vpcAddress: vm.vpcAddress,
      networks: [vm.vpcCidr],
      ...key(vm.hostKey),
    })),
    hosts: [
      ...lab.targets().map((vm) => ({
        id: vm.name,
        project,
        address: vm.vpcAddress,
        network: vm.vpcCidr,
        ...key(vm.hostKey),
      })),
      ...lab.directs().map((vm) => ({ id: vm.name, project, address: vm.publicAddress, ...key(vm.hostKey) })),
    ],
  };
}
