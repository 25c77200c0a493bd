import path from 'node:path';
import { Command } from 'commander';
import { NotFoundError } from '../errors.ts';
import { buildScriptInventory, type ScriptInventory } from '../inventory/build-script-inventory.ts';
import { writeInventory } from '../inventory/write-inventory.ts';
import type { Registry } from '../registry/registry.ts';
import type { KeyStore } from '../secrets/key-store.ts';

/** What `outpost inventory` needs; `open` is called only when the command runs. */
export interface InventoryCommandDeps {
  /** Opens the live registry and key store; the command calls `close` when done. */
  open(): Promise<{ registry: Registry; keys: KeyStore; close(): Promise<void> }>;
  /** Repository root: the files ssh needs go to `<rootDir>/inventories/<project>/`. */
  rootDir: string;
  /** Where the JSON goes. Default: stdout. */
  write?: (text: string) => void;
}

/**
 * `outpost inventory --list | --host NAME [--project P]`: Ansible's inventory-script protocol from
 * the live registry (used by `inventories/outpost`). Refreshes `inventories/<project>/` (ssh_config,
 * known_hosts, keys 0600) on each call, since the listed hosts connect through those files.
 */
export function inventoryCommand(deps: InventoryCommandDeps): Command {
  return new Command('inventory')
    .description('print the Ansible dynamic inventory (inventory-script JSON) from the live registry')
    .option('--list', 'every group and host, with _meta.hostvars')
    .option('--host <name>', 'the vars of one host')
    .option('--project <project>', 'only this project (default: all)')
    .action(async (options: { list?: boolean; host?: string; project?: string }) => {
      if (!options.list && options.host === undefined)
        throw new Error('outpost inventory: give --list or --host NAME');
      const write = deps.write ?? ((text: string) => process.stdout.write(text));
      const listing = await listInventory(deps, options.project);
      const answer = options.host === undefined ? listing : (listing._meta.hostvars[options.host] ?? {});
      write(`${JSON.stringify(answer, null, 2)}\n`);
    });
}

/** Writes every project's inventory files and returns the merged inventory-script listing. */
export async function listInventory(deps: InventoryCommandDeps, only?: string): Promise<ScriptInventory> {
  const opened = await deps.open();
  const { registry, keys } = opened;
  try {
    const projects = only === undefined ? await registry.listProjects() : [await registry.getProject(only)];
    const models = [];
    for (const project of projects) {
      const privateKey = await keys.projectPrivateKey(project.id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (privateKey === undefined) continue; // A project with no key of Outpost's cannot be reached yet.
      const written = await writeInventory({
        dir: path.join(deps.rootDir, 'inventories', project.id),
        project: project.id,
        hosts: await registry.listHosts({ project: project.id }),
        proxies: await registry.listProxies({ project: project.id }),
        keys: { project: privateKey },
      });
      models.push({ project: project.id, model: written.model });
    }
    return buildScriptInventory(models);
  } finally {
    await opened.close();
  }
}
