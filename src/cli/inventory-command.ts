import path from 'node:path';
import { Command } from 'commander';
import { NotFoundError } from '../errors.ts';
import { buildScriptInventory, type ScriptInventory } from '../inventory/build-script-inventory.ts';
import type { Registry } from '../registry/registry.ts';
import { writeProjectInventory } from '../registry/write-project-inventory.ts';
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
  const { registry } = opened;
  try {
    const projects = only === undefined ? await registry.listProjects() : [await registry.getProject(only)];
    const models = [];
    for (const project of projects) {
      try {
        const written = await writeProjectInventory(
          opened,
          project.id,
          path.join(deps.rootDir, 'inventories', project.id),
        );
        models.push({ project: project.id, model: written.model });
      } catch (error) {
        // A project with no key of Outpost's cannot be reached yet: list the others.
        if (!(error instanceof NotFoundError) || only !== undefined) throw error;
      }
    }
    return buildScriptInventory(models);
  } finally {
    await opened.close();
  }
}
