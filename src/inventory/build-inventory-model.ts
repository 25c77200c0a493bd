import { groupName, hostAlias, proxyAlias } from './aliases.ts';
import type { InventoryPaths } from './inventory-paths.ts';
import type { Route } from './resolve-routes.ts';
import type { Proxy } from '../domain/proxy.ts';

type Vars = Record<string, string | number>;

/** One project's inventory, independent of the file format (YAML file or inventory-script JSON). */
export interface InventoryModel {
  /** Vars for every host of the project (put on `all`, or on `project_<id>` in a multi-project listing). */
  vars: Vars;
  hostvars: Record<string, Vars>;
  /** Group name -> host names, in a stable order. */
  groups: Record<string, string[]>;
}

/**
 * Builds groups and vars: `outpost_proxies` (the proxy nodes), `proxy_<id>` (hosts behind each proxy),
 * `network_<net>` (hosts per network), `reach_<how>`. Every connection goes through the generated
 * ssh_config (`-F`), which pins host keys by alias and carries ProxyJump.
 */
export function buildInventoryModel(input: {
  project: string;
  routes: Route[];
  proxies: Proxy[];
  paths: InventoryPaths;
}): InventoryModel {
  const { project, routes, proxies, paths } = input;
  const common = `-F ${paths.sshConfig}`;
  const groups: Record<string, string[]> = { outpost_proxies: [] };
  const hostvars: Record<string, Vars> = {};
  const add = (group: string, host: string) => (groups[group] ??= []).push(host);

  for (const proxy of proxies) {
    hostvars[proxy.id] = {
      ansible_host: proxyAlias(proxy.id),
      ansible_port: proxy.sshPort,
      ansible_user: proxy.user,
      outpost_kind: 'proxy',
      outpost_vpc_address: proxy.vpcAddress,
    };
    add('outpost_proxies', proxy.id);
  }
  for (const { host, reach, proxy, forward } of routes) {
    const vars: Vars = {
      ansible_host: hostAlias(host.id),
      ansible_port: host.sshPort,
      outpost_kind: 'host',
      outpost_reach: reach,
    };
    if (forward) {
      // Points at the tunnel keeper's listener; the alias still names the pinned key.
      Object.assign(vars, { ansible_host: forward.host, ansible_port: forward.port });
      vars.ansible_ssh_common_args = `${common} -o HostKeyAlias=${hostAlias(host.id)}`;
    }
    if (host.facts?.interpreter) vars.ansible_python_interpreter = host.facts.interpreter;
    if (host.network) vars.outpost_network = host.network;
    if (proxy) Object.assign(vars, { outpost_proxy: proxy.id, outpost_proxy_vpc_address: proxy.vpcAddress });
    hostvars[host.id] = vars;
    add(`reach_${reach}`, host.id);
    if (proxy) add(groupName('proxy', proxy.id), host.id);
    if (host.network) add(groupName('network', host.network), host.id);
  }
  return {
    vars: {
      ansible_user: 'cloudroot',
      ansible_ssh_private_key_file: paths.projectKey,
      ansible_ssh_common_args: common,
      outpost_project: project,
    },
    hostvars,
    groups,
  };
}
