import { Command } from 'commander';
import type { ApiClient } from './api-client.ts';
import { printRows } from './print-rows.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `outpost project|proxy|host add|list|show|rm`: the registry through the API. */
export function registryCommands(client: () => ApiClient): Command[] {
  const project = entityCommand(client, 'project', 'projects', ['id', 'createdAt'], (name) => ({ id: name }));

  const proxy = entityCommand(
    client,
    'proxy',
    'proxies',
    ['id', 'project', 'publicAddress', 'vpcAddress', 'networks', 'user'],
    (name, o) => ({
      id: name,
      project: o.project,
      publicAddress: o.publicAddress,
      ...(o.sshPort ? { sshPort: Number(o.sshPort) } : {}),
      vpcAddress: o.vpcAddress,
      networks: o.network ?? [],
      ...(o.user ? { user: o.user } : {}),
      ...(o.hostKey ? { hostKey: o.hostKey } : {}),
    }),
  );
  proxy.commands
    .find((c) => c.name() === 'add')
    ?.requiredOption('--project <id>', 'project')
    .requiredOption('--public-address <address>', 'address reachable from the control plane')
    .requiredOption('--vpc-address <address>', 'address inside the VPC')
    .option('--network <cidr>', 'a network it serves (repeatable)', collect)
    .option('--ssh-port <port>', 'ssh port')
    .option('--user <name>', 'login user (default cloudroot)')
    .option('--host-key <key>', "the proxy's ssh host key line");

  const host = entityCommand(
    client,
    'host',
    'hosts',
    ['id', 'project', 'address', 'proxy', 'login', 'reach', 'uplink', 'agent', 'lastSeen', 'reason'],
    (name, o) => ({
      id: name,
      project: o.project,
      address: o.address,
      ...(o.sshPort ? { sshPort: Number(o.sshPort) } : {}),
      ...(o.network ? { network: o.network } : {}),
      ...(o.proxy ? { proxy: o.proxy } : {}),
      ...(o.hostKey ? { hostKey: o.hostKey } : {}),
    }),
    hostStatusRow,
  );
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

function entityCommand(
  client: () => ApiClient,
  noun: string,
  plural: string,
  columns: string[],
  toBody: (name: string, options: Record<string, string | string[] | undefined>) => Record<string, unknown>,
  toRow: (entity: Record<string, unknown>) => Record<string, unknown> = (entity) => entity,
): Command {
  const command = new Command(noun).description(`manage ${plural}`);
  command
    .command('add <name>')
    .description(`add a ${noun}`)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Record<string, string | string[] | undefined>) => {
      const created = await client().request<Record<string, unknown>>(
        'POST',
        `/v1/${plural}`,
        toBody(name, opts),
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else process.stderr.write(`outpost: ${noun} ${String(created.id)} added\n`);
      // The API adds warnings it would not refuse for (a proxy serving another proxy's network).
      for (const warning of (created.warnings ?? []) as string[])
        process.stderr.write(`outpost: warning: ${warning}\n`);
    });
  command
    .command('list')
    .description(`list ${plural}`)
    .option('--project <id>', 'only of this project')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }) => {
      const query = opts.project && noun !== 'project' ? `?project=${encodeURIComponent(opts.project)}` : '';
      const rows = await client().request<Record<string, unknown>[]>('GET', `/v1/${plural}${query}`);
      printRows(opts.json ? rows : rows.map(toRow), columns, Boolean(opts.json));
    });
  command
    .command('show <name>')
    .description(`show a ${noun}`)
    .action(async (name: string) => {
      process.stdout.write(
        `${JSON.stringify(await client().request('GET', `/v1/${plural}/${encodeURIComponent(name)}`), null, 2)}\n`,
      );
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

/** One line of `outpost host list`: login state, reach, uplink, agent state, when metrics were last seen. */
function hostStatusRow(host: Record<string, unknown>): Record<string, unknown> {
  const login = (host.login ?? {}) as { state?: string };
  const agent = (host.agent ?? {}) as { state?: string; uplink?: string; lastSeen?: string; reason?: string };
  const metrics = host.metrics as { lastSeen?: string | null; error?: string } | undefined;
  const probe = host.probe as { reach?: string } | undefined;
  return {
    ...host,
    login: login.state,
    reach: host.reach ?? probe?.reach,
    uplink: agent.uplink,
    agent: agent.state,
    // Live from InfluxDB when the server could ask it; else what the last deploy saw.
    lastSeen:
      metrics?.lastSeen ??
      (metrics?.error ? `? (${agent.lastSeen ?? 'InfluxDB unavailable'})` : agent.lastSeen),
    reason: agent.state === 'reporting' ? undefined : agent.reason?.slice(0, 80),
  };
}
