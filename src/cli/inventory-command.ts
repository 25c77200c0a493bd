import path from 'node:path';
import { Command } from 'commander';
import { AppError, ValidationError, quote } from '../errors.ts';
import type { InventoryModel } from '../inventory/build-inventory-model.ts';
import { buildScriptInventory, type ScriptInventory } from '../inventory/build-script-inventory.ts';
import { inventoryPaths } from '../inventory/inventory-paths.ts';
import type { RenderedInventory } from '../inventory/render-inventory.ts';
import { writeRenderedInventory } from '../inventory/write-rendered-inventory.ts';
import type { ApiClient } from './api-client.ts';

/**
 * `outpost inventory write PROJECT [DIR]`: the project's generated inventory, fetched over the API and
 * written to DIR (default `inventories/PROJECT`): hosts.yml, ssh_config, known_hosts, keys 0600.
 * `outpost inventory --list | --host NAME [--project P]`: Ansible's inventory-script protocol (used by
 * `inventories/outpost`); refreshes `inventories/<project>/` on each call, since the listed hosts
 * connect through those files.
 */
export function inventoryCommand(
  client: () => ApiClient,
  options: {
    /** Where `--list` writes `inventories/<project>/`. Default: the current directory. */
    rootDir?: string;
    /** Where the output goes. Default: stdout. */
    write?: (text: string) => void;
  } = {},
): Command {
  const rootDir = options.rootDir ?? process.cwd();
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const command = new Command('inventory')
    .description('the generated Ansible inventory of a project, through the API')
    .option('--list', 'inventory-script JSON: every group and host, with _meta.hostvars')
    .option('--host <name>', 'inventory-script JSON: the vars of one host')
    .option('--project <project>', 'with --list or --host: only this project (default: all)')
    .action(async (opts: { list?: boolean; host?: string; project?: string }) => {
      if (!opts.list && opts.host === undefined)
        throw new ValidationError('inventory', 'give a subcommand (write), --list or --host NAME');
      const listing = await listInventory(client(), rootDir, opts.project);
      const answer = opts.host === undefined ? listing : (listing._meta.hostvars[opts.host] ?? {});
      write(`${JSON.stringify(answer, null, 2)}\n`);
    });
  command
    .command('write <project> [dir]')
    .description(
      'write hosts.yml, ssh_config, known_hosts and keys (0600) to DIR (default inventories/PROJECT)',
    )
    .action(async (project: string, dir: string | undefined) => {
      const target = path.resolve(rootDir, dir ?? path.join('inventories', project));
      const rendered = await fetchInventory(client(), project, target);
      write(
        `wrote ${rendered.paths.hostsFile} (${Object.keys(rendered.model.hostvars).length} hosts and proxies)\n` +
          `use: ansible-playbook -i ${rendered.paths.hostsFile} <playbook>\n`,
      );
    });
  return command;
}

/** Fetches one project's inventory rendered for `dir` and writes it; only the expected paths are written. */
export async function fetchInventory(
  client: ApiClient,
  project: string,
  dir: string,
): Promise<RenderedInventory> {
  const rendered = await client.request<RenderedInventory>(
    'GET',
    `/v1/inventories/${encodeURIComponent(project)}/files?dir=${encodeURIComponent(dir)}`,
  );
  const expected = inventoryPaths(dir);
  const allowed = new Set<string>(Object.values(expected));
  const stray = [...rendered.dirs, ...rendered.files].find((entry) => !allowed.has(entry.path));
  if (stray) throw new AppError('api_error', `the API answered a path outside ${dir}: ${quote(stray.path)}`);
  await writeRenderedInventory(rendered);
  return { ...rendered, paths: expected };
}

/** Writes every project's inventory under `inventories/` and returns the merged inventory-script listing. */
export async function listInventory(
  client: ApiClient,
  rootDir: string,
  only?: string,
): Promise<ScriptInventory> {
  const projects =
    only === undefined
      ? (await client.request<{ id: string }[]>('GET', '/v1/projects')).map((p) => p.id)
      : [only];
  const models: { project: string; model: InventoryModel }[] = [];
  for (const project of projects) {
    try {
      const { model } = await fetchInventory(client, project, path.resolve(rootDir, 'inventories', project));
      models.push({ project, model });
    } catch (error) {
      // A project with no key of Outpost's cannot be reached yet: list the others.
      if (!(error instanceof AppError && error.status === 404) || only !== undefined) throw error;
    }
  }
  return buildScriptInventory(models);
}
