import type { Lab } from '../lab/lab.ts';

/** A registry body for a proxy or a host, as POST /v1/proxies|hosts (or Registry.create*) takes it. */
export type EntityBody = Record<string, unknown> & { id: string };

/**
 * The registry entries of a lab for `project`: each VPC's proxy with its network, VPC VMs matched to it
 * by network, direct VMs by their public address; every host key pinned, as enrollment would leave it.
 */
export function labEntities(lab: Lab, project: string): { proxies: EntityBody[]; hosts: EntityBody[] } {
  return {
    proxies: lab.proxies().map((vm) => ({
      id: vm.name,
      project,
      publicAddress: vm.publicAddress,
      vpcAddress: vm.vpcAddress,
      networks: [vm.vpcCidr],
      hostKey: vm.hostKey,
    })),
    hosts: [
      ...lab.targets().map((vm) => ({
        id: vm.name,
        project,
        address: vm.vpcAddress,
        network: vm.vpcCidr,
        hostKey: vm.hostKey,
      })),
      ...lab
        .directs()
        .map((vm) => ({ id: vm.name, project, address: vm.publicAddress, hostKey: vm.hostKey })),
    ],
  };
}
