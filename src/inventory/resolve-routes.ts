import { ValidationError, quote } from '../errors.ts';
import { hostInputSchema, type Host, type Reach } from '../domain/host.ts';
import { parseInput } from '../domain/parse-input.ts';
import { proxyInputSchema, type Proxy } from '../domain/proxy.ts';
import { reachOf } from '../domain/reach-of.ts';
import { selectProxy } from '../domain/select-proxy.ts';
import { ipSchema } from '../domain/address-schema.ts';
import { portSchema } from '../domain/port.ts';

/** A local forward held by the tunnel keeper: where ssh should connect to reach a host. */
export interface LocalForward {
  host: string;
  port: number;
}

/** How one host is reached, decided once for every generated file. */
export interface Route {
  host: Host;
  reach: Reach;
  proxy: Proxy | undefined;
  forward: LocalForward | undefined;
}

/**
 * Re-validates every host and proxy (values read back from Redis go into ssh_config and YAML) and
 * decides each host's reach. A `forward` host with no forward given falls back to `jump`.
 */
export function resolveRoutes(input: {
  project: string;
  hosts: Host[];
  proxies: Proxy[];
  forwards?: Map<string, LocalForward> | undefined;
}): { routes: Route[]; proxies: Proxy[] } {
  const proxies = input.proxies.map((proxy, index) => checkProxy(proxy, index, input.project));
  const routes = input.hosts.map((host, index): Route => {
    checkHost(host, index, input.project);
    const proxy = selectProxy(host, proxies);
    if (host.proxy && !proxy)
      throw new ValidationError(`hosts.${index}.proxy`, `no proxy named ${quote(host.proxy)} was given`);
    let reach = reachOf(host, proxy);
    const given = input.forwards?.get(host.id);
    const forward = reach === 'forward' && given ? checkForward(given, host.id) : undefined;
    if (reach === 'forward' && !forward) reach = 'jump';
    if (reach === 'jump' && !proxy) {
      throw new ValidationError(
        `hosts.${index}.reach`,
        `host ${quote(host.id)} needs a proxy for "jump", and none serves ${quote(host.address)}`,
      );
    }
    return { host, reach, proxy: reach === 'direct' ? undefined : proxy, forward };
  });
  return { routes, proxies };
}

function checkHost(host: Host, index: number, project: string): void {
  const { id, project: owner, address, sshPort, network, proxy, reach, hostKey } = host;
  parseInput(
    hostInputSchema,
    { id, project: owner, address, sshPort, network, proxy, reach, hostKey },
    `hosts.${index}`,
  );
  if (owner !== project)
    throw new ValidationError(
      `hosts.${index}.project`,
      `host ${quote(id)} belongs to ${quote(owner)}, not ${quote(project)}`,
    );
}

function checkProxy(proxy: Proxy, index: number, project: string): Proxy {
  const { id, project: owner, publicAddress, sshPort, vpcAddress, networks, user, hostKey } = proxy;
  const parsed = parseInput(
    proxyInputSchema,
    { id, project: owner, publicAddress, sshPort, vpcAddress, networks, user, hostKey },
    `proxies.${index}`,
  );
  if (owner !== project)
    throw new ValidationError(
      `proxies.${index}.project`,
      `proxy ${quote(id)} belongs to ${quote(owner)}, not ${quote(project)}`,
    );
  return parsed;
}

function checkForward(forward: LocalForward, id: string): LocalForward {
  return {
    host: parseInput(ipSchema, forward.host, `forwards.${id}.host`),
    port: parseInput(portSchema, forward.port, `forwards.${id}.port`),
  };
}
