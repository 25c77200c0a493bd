import type { Host } from '../domain/host.ts';
import type { Proxy } from '../domain/proxy.ts';
import { describeTie, tiedProxies } from '../domain/select-proxy.ts';
import { NotFoundError, ValidationError, quote } from '../errors.ts';
import type { JobInput } from './job-input.ts';
import type { RegistryPort } from './registry-port.ts';

/** Kinds whose `hosts` may name proxies too (hosts and proxies share one namespace). */
const PROXY_KINDS: readonly JobInput['kind'][] = ['enroll', 'probe', 'prepare-proxy'];

/**
 * Refuses a job at submit whose hosts, proxy or project do not exist (naming every unknown one), that
 * mixes projects, or that targets a host matched equally by several proxies. Resolves to the project
 * the job is for, so the record carries it even when only host ids were given.
 */
export async function checkJobTargets(
  registry: RegistryPort,
  input: JobInput,
  options: { allowLocal: boolean },
): Promise<{ project?: string }> {
  if (input.hosts?.length === 1 && input.hosts[0] === 'localhost' && options.allowLocal) return {};
  const owners: { what: string; project: string }[] = [];
  if (input.project) {
    if (!(await lookUp(() => registry.getProject(input.project ?? ''))))
      throw new ValidationError('project', `no project named ${quote(input.project)}`);
    owners.push({ what: `project ${quote(input.project)}`, project: input.project });
  }
  if (input.selector?.proxy) {
    const proxy = await lookUp(() => registry.getProxy(input.selector?.proxy ?? '') as Promise<Proxy>);
    if (!proxy) throw new ValidationError('selector.proxy', `no proxy named ${quote(input.selector.proxy)}`);
    owners.push({ what: `proxy ${quote(proxy.id)}`, project: proxy.project });
  }
  const hosts: Host[] = [];
  const unknown: string[] = [];
  const misplaced: string[] = [];
  // Looked up at once (a job may name hundreds of hosts), then judged in the order given.
  const lookedUp = await Promise.all(
    (input.hosts ?? []).map(async (id) => {
      const host = await lookUp(() => registry.getHost(id) as Promise<Host>);
      const proxy = host ? undefined : await lookUp(() => registry.getProxy(id) as Promise<Proxy>);
      return { id, host, proxy };
    }),
  );
  for (const { id, host, proxy } of lookedUp) {
    if (host) hosts.push(host);
    if (host && input.kind === 'prepare-proxy') misplaced.push(`${quote(id)} is a host`);
    if (proxy && !PROXY_KINDS.includes(input.kind)) misplaced.push(`${quote(id)} is a proxy`);
    if (!host && !proxy) unknown.push(id);
    const found = host ?? proxy;
    if (found) owners.push({ what: `${host ? 'host' : 'proxy'} ${quote(id)}`, project: found.project });
  }
  if (unknown.length > 0) {
    const noun = PROXY_KINDS.includes(input.kind) ? 'host or proxy' : 'host';
    const local = unknown.includes('localhost')
      ? ' (runs on "localhost" are not enabled on this server)'
      : '';
    throw new ValidationError(
      'hosts',
      `no ${noun} named ${unknown.map((id) => quote(id)).join(', ')}${local}`,
    );
  }
  if (misplaced.length > 0) {
    const wanted = input.kind === 'prepare-proxy' ? 'proxies' : 'hosts';
    throw new ValidationError('hosts', `${misplaced.join(', ')}: a ${input.kind} job is for ${wanted}`);
  }
  const first = owners[0];
  const stranger = owners.find((owner) => owner.project !== first?.project);
  if (first && stranger)
    throw new ValidationError(
      'hosts',
      `${stranger.what} is in project ${quote(stranger.project)}, ${first.what} in ${quote(first.project)}: a job is for one project`,
    );
  const project = first?.project;
  if (project && input.kind !== 'rotate-key' && input.kind !== 'prepare-proxy')
    await refuseTies(registry, input, project, hosts);
  return project ? { project } : {};
}

/** Refuses the job when one of its hosts is matched equally by several proxies, naming them. */
async function refuseTies(
  registry: RegistryPort,
  input: JobInput,
  project: string,
  named: Host[],
): Promise<void> {
  const hosts = input.hosts
    ? named
    : ((await registry.listHosts({
        project,
        ...(input.selector?.network ? { network: input.selector.network } : {}),
        ...(input.selector?.proxy ? { proxy: input.selector.proxy } : {}),
      })) as Host[]);
  const proxies = (await registry.listProxies({ project })) as Proxy[];
  for (const host of hosts) {
    const tied = tiedProxies(host, proxies);
    if (tied.length > 0) throw new ValidationError('hosts', describeTie(host, tied));
  }
}

/** The entity `get` finds, or undefined when it does not exist. */
async function lookUp<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}
