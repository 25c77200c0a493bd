import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { networkScripts } from '../../lab/network.ts';
import { planLab } from '../../lab/plan.ts';
import { hostLinks } from '../../lab/teardown.ts';

const documentation = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/;

describe('planLab', () => {
  it('fits 4 VPCs x 10 VMs and 5 direct VMs into documentation ranges, every address unique', () => {
    const plan = planLab({ slot: 3, vpcs: 4, vmsPerVpc: 10, directVms: 5 });
    expect(plan.vms).toHaveLength(4 * 11 + 5);
    const addresses = plan.vms
      .flatMap((vm) => [vm.publicAddress, vm.vpcAddress])
      .filter((a) => a !== undefined);
    for (const address of [...addresses, plan.controlAddress]) expect(address).toMatch(documentation);
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  it('gives concurrent slots disjoint public addresses and names', () => {
    const a = planLab({ slot: 0, vpcs: 2, vmsPerVpc: 1, directVms: 2 });
    const b = planLab({ slot: 1, vpcs: 2, vmsPerVpc: 1, directVms: 2 });
    const publicOf = (plan: typeof a) => [
      plan.controlAddress,
      ...plan.vms.map((vm) => vm.publicAddress).filter(Boolean),
    ];
    expect(publicOf(a).filter((address) => publicOf(b).includes(address))).toEqual([]);
    expect(a.vms.map((vm) => vm.netns).filter((ns) => b.vms.some((vm) => vm.netns === ns))).toEqual([]);
  });

  it("names each slot's public segment, which holds the control plane and the public addresses", () => {
    const plan = planLab({ slot: 5, vpcs: 2, vmsPerVpc: 1, directVms: 1 });
    expect(plan.publicCidr).toBe('203.0.113.160/27');
    expect(plan.controlAddress).toBe('203.0.113.161');
    for (const vm of plan.vms.filter((v) => v.publicAddress))
      expect(Number(vm.publicAddress?.split('.')[3])).toBeGreaterThan(160);
  });

  it("matches the README's lab box: the networks and the control plane's address of slot 0", () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const box = readme.slice(
      readme.indexOf('**Try it on the lab first.**'),
      readme.indexOf('**1. Start Outpost.**'),
    );
    const plan = planLab({ slot: 0, vpcs: 2, vmsPerVpc: 2, directVms: 1 });
    for (const proxy of plan.vms.filter((vm) => vm.kind === 'proxy'))
      expect(box).toContain(`${proxy.vpc} \`${proxy.vpcCidr}\``);
    expect(box).toContain(`(slot 0: \`${plan.publicCidr}\`)`);
    expect(box).toContain(`OUTPOST_INFLUX_BIND=${plan.controlAddress}`);
  });

  it('keeps interface names within the kernel limit of 15 characters', () => {
    const plan = planLab({ slot: 7, vpcs: 8, vmsPerVpc: 61, directVms: 0 });
    for (const link of plan.links) expect(link.name.length).toBeLessThanOrEqual(15);
  });

  it('adds redhat-sim targets round-robin over the VPCs, after every VPC own VMs and addressed after their targets', () => {
    const plan = planLab({ slot: 0, vpcs: 2, vmsPerVpc: 1, directVms: 1, redhatSim: 3 });
    expect(plan.vms.map((vm) => `${vm.name} ${vm.osFamily} ${vm.vpcAddress ?? vm.publicAddress}`)).toEqual([
      'vpc1-proxy debian 198.51.100.1',
      'vpc1-vm1 debian 198.51.100.2',
      'vpc2-proxy debian 198.51.100.65',
      'vpc2-vm1 debian 198.51.100.66',
      'vpc1-rh1 redhat-sim 198.51.100.3',
      'vpc2-rh1 redhat-sim 198.51.100.67',
      'vpc1-rh2 redhat-sim 198.51.100.4',
      'direct1 debian 203.0.113.4',
    ]);
    const rh = plan.links.find((link) => link.vmNetns === 'olab0-vpc2-rh1');
    expect(rh).toEqual({
      name: 'ol0v1t1',
      inNetns: 'olab0-vpc2-proxy',
      bridge: 'br0',
      vmNetns: 'olab0-vpc2-rh1',
    });
    const all = planLab({ slot: 0, vpcs: 1, vmsPerVpc: 1, directVms: 1, osFamily: 'redhat-sim' });
    expect(all.vms.map((vm) => vm.osFamily)).toEqual(['redhat-sim', 'redhat-sim', 'redhat-sim']);
  });

  it('refuses shapes it cannot address, naming the field and value', () => {
    expect(() => planLab({ slot: 0, vpcs: 0, vmsPerVpc: 0, directVms: 1, redhatSim: 1 })).toThrow(
      /redhatSim: these VMs go into VPCs and the lab has none, got 1/,
    );
    expect(() => planLab({ slot: 0, vpcs: 1, vmsPerVpc: 60, directVms: 0, redhatSim: 2 })).toThrow(
      /redhatSim/,
    );
    expect(() =>
      planLab({ slot: 0, vpcs: 1, vmsPerVpc: 1, directVms: 0, osFamily: 'centos' as 'debian' }),
    ).toThrow(/osFamily: expected one of debian, redhat-sim, got "centos"/);
    expect(() => planLab({ slot: 8, vpcs: 1, vmsPerVpc: 1, directVms: 0 })).toThrow(/slot: .* got 8/);
    expect(() => planLab({ slot: 0, vpcs: 1, vmsPerVpc: 62, directVms: 0 })).toThrow(/vmsPerVpc: .* got 62/);
    expect(() => planLab({ slot: 0, vpcs: 1, vmsPerVpc: 1.5, directVms: 0 })).toThrow(/vmsPerVpc/);
  });
});

describe('networkScripts', () => {
  it('puts the VPC bridge inside the proxy namespace, so the control plane has no VPC address', () => {
    const plan = planLab({ slot: 0, vpcs: 1, vmsPerVpc: 2, directVms: 0 });
    const { root, perNetns } = networkScripts(plan);
    expect(root.join('\n')).not.toContain('198.51.100');
    expect(perNetns.get('olab0-vpc1-proxy')).toContain('addr add 198.51.100.1/26 dev br0');
    expect(perNetns.get('olab0-vpc1-vm2')).toContain('addr add 198.51.100.3/26 dev eth0');
  });
});

describe('hostLinks', () => {
  it('finds the slot links in `ip -o link` output, veth peers included', () => {
    const output = [
      '1: lo: <LOOPBACK>',
      '7: ol0pub: <BROADCAST>',
      '9: ol0p0@if2: <BROADCAST>',
      '12: ol1pub: <BROADCAST>',
    ].join('\n');
    expect(hostLinks(output, 'ol0')).toEqual(['ol0pub', 'ol0p0']);
  });
});
