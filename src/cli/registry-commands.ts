import { Command } from 'commander';
import type { ApiClient } from './api-client.ts';
import type { Project } from '../domain/project.ts';
import type { Proxy } from '../domain/proxy.ts';
import { formatTime } from './format-time.ts';
import { printHost } from './print-host.ts';
import { printProject } from './print-project.ts';
import { printProxy } from './print-proxy.ts';
import { printRows } from './print-rows.ts';
import { hostRow, proxyRow, type HostView } from './registry-views.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `outpost project|proxy|host add|list|show|rm`: the registry through the API. */
export function registryCommands(client: () => ApiClient): Command[] {
  const get = <T>(route: string): Promise<T> => client().request<T>('GET', route);
  const proxiesOf = (project?: string): Promise<Proxy[]> =>
    get<Proxy[]>(`/v1/proxies${project ? `?project=${encodeURIComponent(project)}` : ''}`);
  const hostsOf = (project?: string): Promise<HostView[]> =>
    get<HostView[]>(`/v1/hosts${project ? `?project=${encodeURIComponent(project)}` : ''}`);

  const project = entityCommand(client, {
    noun: 'project',
    plural: 'projects',
    toBody: (name) => ({ id: name }),
    list: async () => {
      const projects = await get<Project[]>('/v1/projects');
      return {
        raw: projects,
        rows: projects.map((one) => ({ id: one.id, created: formatTime(one.createdAt) })),
      };
    },
    columns: ['id', 'created'],
    show: async (found) => {
      const one = found as Project;
      printProject(one, await proxiesOf(one.id), await hostsOf(one.id));
    },
  });

  const proxy = entityCommand(client, {
    noun: 'proxy',
    plural: 'proxies',
    toBody: (name, o) => ({
      id: name,
      project: o.project,
      publicAddress: o.publicAddress,
      ...(o.sshPort ? { sshPort: Number(o.sshPort) } : {}),
      vpcAddress: o.vpcAddress,
      networks: o.network ?? [],
      ...(o.user ? { user: o.user } : {}),
      ...(o.hostKey ? { hostKey: o.hostKey } : {}),
    }),
    list: async (filter) => {
      const proxies = await proxiesOf(filter);
      return { raw: proxies, rows: proxies.map(proxyRow) };
    },
    columns: ['id', 'project', 'publicAddress', 'vpcAddress', 'networks', 'user', 'prepared', 'self-test'],
    show: async (found) => {
      const one = found as Proxy;
      printProxy(one, await hostsOf(one.project), await proxiesOf(one.project));
    },
  });
  proxy.commands
    .find((c) => c.name() === 'add')
    ?.requiredOption('--project <id>', 'project')
    .requiredOption('--public-address <address>', 'address reachable from the control plane')
    .requiredOption('--vpc-address <address>', 'address inside the VPC')
    .option('--network <cidr>', 'a network it serves (repeatable)', collect)
    .option('--ssh-port <port>', 'ssh port')
    .option('--user <name>', 'login user (default cloudroot)')
    .option('--host-key <key>', "the proxy's ssh host key line");

  const host = entityCommand(client, {
    noun: 'host',
    plural: 'hosts',
    toBody: (name, o) => ({
      id: name,
      project: o.project,
      address: o.address,
      ...(o.sshPort ? { sshPort: Number(o.sshPort) } : {}),
      ...(o.network ? { network: o.network } : {}),
      ...(o.proxy ? { proxy: o.proxy } : {}),
      ...(o.hostKey ? { hostKey: o.hostKey } : {}),
    }),
    list: async (filter) => {
      const [hosts, proxies] = await Promise.all([hostsOf(filter), proxiesOf(filter)]);
      return { raw: hosts, rows: hosts.map((one) => hostRow(one, proxies)) };
    },
    columns: [
      'id',
      'project',
      'address',
      'port',
      'proxy',
      'login',
      'reach',
      'uplink',
      'agent',
      'telegraf',
      'lastSeen',
      'reason',
    ],
    show: async (found) => {
      const one = found as HostView;
      printHost(one, await proxiesOf(one.project));
    },
  });
  host.commands
    .find((c) => c.name() === 'add')
    ?.requiredOption('--project <id>', 'project')
    .requiredOption('--address <address>', 'ssh address')
    .option('--ssh-port <port>', 'ssh port')
    .option('--network <cidr-or-label>', 'network')
    .option('--proxy <id>', 'proxy to reach it through')
    .option('--host-key <key>', "the host's ssh host key line");
  return [project, proxy, host];
}

/** How one kind of entity is added, listed and shown. */
interface EntitySpec {
  noun: string;
  plural: string;
  toBody: (name: string, options: Record<string, string | string[] | undefined>) => Record<string, unknown>;
  /** The entities (for --json) and their table rows, of one project when `project` is given. */
  list: (project?: string) => Promise<{ raw: unknown[]; rows: Record<string, unknown>[] }>;
  columns: string[];
  /** Prints one entity for a person. */
  show: (entity: unknown) => Promise<void>;
}

function entityCommand(client: () => ApiClient, spec: EntitySpec): Command {
  const { noun, plural } = spec;
  const command = new Command(noun).description(`manage ${plural}`);
  command
    .command('add <name>')
    .description(`add a ${noun}`)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Record<string, string | string[] | undefined>) => {
      const created = await client().request<Record<string, unknown>>(
        'POST',
        `/v1/${plural}`,
        spec.toBody(name, opts),
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else process.stderr.write(`outpost: ${noun} ${String(created.id)} added\n`);
      // The API adds warnings it would not refuse for (a proxy serving another proxy's network).
      for (const warning of (created.warnings ?? []) as string[])
        process.stderr.write(`outpost: warning: ${warning}\n`);
    });
  const list = command.command('list').description(`list ${plural}`);
  // Projects are not of a project: no --project there.
  if (noun !== 'project') list.option('--project <id>', 'only of this project');
  list.option('--json', 'print JSON').action(async (opts: { project?: string; json?: boolean }) => {
    const { raw, rows } = await spec.list(opts.project);
    if (opts.json) process.stdout.write(`${JSON.stringify(raw, null, 2)}\n`);
    else printRows(rows, spec.columns, false);
  });
  command
    .command('show <name>')
    .description(`show a ${noun}`)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const found = await client().request('GET', `/v1/${plural}/${encodeURIComponent(name)}`);
      if (opts.json) process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
      else await spec.show(found);
    });
  command
    .command('rm <name>')
    .description(`remove a ${noun}`)
    .action(async (name: string) => {
      await client().request('DELETE', `/v1/${plural}/${encodeURIComponent(name)}`);
      process.stderr.write(`outpost: ${noun} ${name} removed\n`);
    });
  return command;
}
