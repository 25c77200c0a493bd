import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { buildHostsYaml } from '../../../src/inventory/build-hosts-yaml.ts';
import { buildInventoryModel } from '../../../src/inventory/build-inventory-model.ts';
import { buildKnownHosts } from '../../../src/inventory/build-known-hosts.ts';
import { buildScriptInventory } from '../../../src/inventory/build-script-inventory.ts';
import { buildSshConfig } from '../../../src/inventory/build-ssh-config.ts';
import { inventoryPaths } from '../../../src/inventory/inventory-paths.ts';
import { resolveRoutes } from '../../../src/inventory/resolve-routes.ts';
import { HOST_KEY, host, proxy } from './fixtures.ts';

const paths = inventoryPaths('/srv/outpost/inventories/acme');
const proxies = [proxy('edge', '198.51.100.0/26', { hostKey: HOST_KEY })];
const hosts = [
  host('vm1', '198.51.100.5', { network: '198.51.100.0/26', hostKey: HOST_KEY }),
  host('vm2', '198.51.100.6', { reach: 'forward' }),
  host('web', '203.0.113.20'),
];

function build(forwards?: Map<string, { host: string; port: number }>) {
  const { routes, proxies: checked } = resolveRoutes({ project: 'acme', hosts, proxies, forwards });
  return {
    routes,
    proxies: checked,
    model: buildInventoryModel({ project: 'acme', routes, proxies: checked, paths }),
  };
}

describe('inventory builders', () => {
  it('jumps through the proxy by default, goes direct when no proxy serves the host', () => {
    const { model } = build();
    expect(model.groups).toEqual({
      outpost_proxies: ['edge'],
      reach_jump: ['vm1', 'vm2'],
      proxy_edge: ['vm1', 'vm2'],
      network_198_51_100_0_26: ['vm1'],
      reach_direct: ['web'],
    });
    expect(model.vars).toEqual({
      ansible_user: 'cloudroot',
      ansible_ssh_private_key_file: '/srv/outpost/inventories/acme/keys/project',
      ansible_ssh_common_args: '-F /srv/outpost/inventories/acme/ssh_config',
      outpost_project: 'acme',
    });
    expect(model.hostvars.vm1).toMatchObject({
      ansible_host: 'vm1',
      outpost_reach: 'jump',
      outpost_proxy: 'edge',
    });
  });

  it('gives a host the Python its last probe found, and leaves discovery to Ansible for the others', () => {
    const probed = host('db', '203.0.113.21', { facts: { interpreter: '/usr/libexec/platform-python' } });
    const { routes, proxies: checked } = resolveRoutes({
      project: 'acme',
      hosts: [...hosts, probed],
      proxies,
    });
    const model = buildInventoryModel({ project: 'acme', routes, proxies: checked, paths });
    expect(model.hostvars.db?.ansible_python_interpreter).toBe('/usr/libexec/platform-python');
    expect(model.hostvars.web).not.toHaveProperty('ansible_python_interpreter');
    const dumped = yaml.load(buildHostsYaml(model, 'header')) as {
      all: { hosts: Record<string, Record<string, unknown>> };
    };
    expect(dumped.all.hosts.db?.ansible_python_interpreter).toBe('/usr/libexec/platform-python');
  });

  it('points a forward host at the local forward, pinned by alias', () => {
    const { model } = build(new Map([['vm2', { host: '127.0.0.1', port: 41022 }]]));
    expect(model.hostvars.vm2).toMatchObject({
      ansible_host: '127.0.0.1',
      ansible_port: 41022,
      outpost_reach: 'forward',
      ansible_ssh_common_args: '-F /srv/outpost/inventories/acme/ssh_config -o HostKeyAlias=vm2',
    });
  });

  it('writes ssh_config with ControlMaster on the proxy, ProxyJump for jump hosts, strict checking', () => {
    const { routes, proxies: checked } = build();
    const config = buildSshConfig({ project: 'acme', routes, proxies: checked, paths });
    expect(config).toContain(
      'Host proxy.edge\n  HostName 203.0.113.10\n  Port 22\n  User cloudroot\n  HostKeyAlias proxy.edge\n  ControlMaster auto\n  ControlPath /srv/outpost/inventories/acme/cp/%C\n  ControlPersist 120s\n',
    );
    expect(config).toContain(
      'Host vm1\n  HostName 198.51.100.5\n  Port 22\n  HostKeyAlias vm1\n  ProxyJump proxy.edge\n',
    );
    expect(config).toContain('Host web\n  HostName 203.0.113.20\n  Port 22\n  HostKeyAlias web\n\n');
    expect(config).toContain('  StrictHostKeyChecking yes\n');
    expect(config).toContain('  UserKnownHostsFile /srv/outpost/inventories/acme/known_hosts\n');
  });

  it('keeps the jump of a password run in a session of its own, so its ssh masters outlive sshpass', () => {
    const { routes, proxies: checked } = build();
    const config = buildSshConfig({
      project: 'acme',
      routes,
      proxies: checked,
      paths,
      jump: 'detached-jump',
    });
    expect(config).toContain(
      'Host vm1\n  HostName 198.51.100.5\n  Port 22\n  HostKeyAlias vm1\n  ProxyCommand setsid -w ssh -F /srv/outpost/inventories/acme/ssh_config -W [%h]:%p proxy.edge\n',
    );
    expect(config).not.toContain('ProxyJump');
    expect(config).toContain('Host web\n  HostName 203.0.113.20\n  Port 22\n  HostKeyAlias web\n\n');
  });

  it('pins keys by alias in known_hosts', () => {
    const { routes, proxies: checked } = build();
    expect(buildKnownHosts(routes, checked)).toBe(`proxy.edge ${HOST_KEY}\nvm1 ${HOST_KEY}\n`);
  });

  it('dumps hosts.yml that reads back as the same inventory', () => {
    const { model } = build();
    const text = buildHostsYaml(model, 'generated\nline two');
    expect(text.startsWith('# generated\n# line two\nall:\n')).toBe(true);
    const parsed = yaml.load(text) as {
      all: { hosts: Record<string, unknown>; children: Record<string, { hosts: object }> };
    };
    expect(parsed.all.hosts.vm1).toEqual(model.hostvars.vm1);
    expect(Object.keys(parsed.all.children.proxy_edge?.hosts ?? {})).toEqual(['vm1', 'vm2']);
  });

  it('lists several projects in inventory-script JSON with _meta.hostvars', () => {
    const { model } = build();
    const listing = buildScriptInventory([{ project: 'acme', model }]);
    expect(listing._meta.hostvars.web).toMatchObject({ ansible_host: 'web', outpost_reach: 'direct' });
    expect(listing.project_acme).toEqual({ hosts: ['edge', 'vm1', 'vm2', 'web'], vars: model.vars });
    expect(listing.all).toEqual({
      children: [
        'project_acme',
        'outpost_proxies',
        'reach_jump',
        'proxy_edge',
        'network_198_51_100_0_26',
        'reach_direct',
      ],
    });
  });

  it('re-validates what it writes: a tampered address or a foreign project is refused', () => {
    const bad = [host('vm9', '198.51.100.9\n  ProxyCommand sh')];
    expect(() => resolveRoutes({ project: 'acme', hosts: bad, proxies })).toThrow(/hosts\.0\.address/);
    expect(() =>
      resolveRoutes({ project: 'acme', hosts: [host('x', '192.0.2.1', { project: 'other' })], proxies }),
    ).toThrow(/hosts\.0\.project: host "x" belongs to "other"/);
    expect(() =>
      resolveRoutes({ project: 'acme', hosts: [host('x', '192.0.2.1', { reach: 'jump' })], proxies }),
    ).toThrow(/needs a proxy/);
    expect(() => inventoryPaths('/tmp/my inventory')).toThrow(/dir: .*"\/tmp\/my inventory"/);
  });

  it('keeps control sockets under the unix socket path limit, even for a deep inventory directory', () => {
    const deep = inventoryPaths(`/var/tmp/${'d'.repeat(60)}/inventories/acme`);
    expect(deep.controlDir).toMatch(/^\/tmp\/outpost-cp-[0-9a-f]{16}$/);
    expect(`${deep.controlDir}/${'f'.repeat(40)}.${'r'.repeat(16)}`.length).toBeLessThan(108);
    expect(inventoryPaths('/srv/outpost/inventories/acme').controlDir).toBe(
      '/srv/outpost/inventories/acme/cp',
    );
  });
});
