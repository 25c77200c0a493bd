import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { InventoryModel } from './build-inventory-model.ts';
import type { InventoryPaths } from './inventory-paths.ts';
import { renderInventory, type RenderedInventory, type WriteInventoryInput } from './render-inventory.ts';

export type { WriteInventoryInput } from './render-inventory.ts';

/** The written files, plus the model (for the inventory-script listing). */
export interface WrittenInventory extends InventoryPaths {
  model: InventoryModel;
}

/**
 * Writes hosts.yml, ssh_config, known_hosts and keys/ (0600) so that
 * `ansible-playbook -i <dir>/hosts.yml ...` works with nothing else running.
 */
export async function writeInventory(input: WriteInventoryInput): Promise<WrittenInventory> {
  const rendered = renderInventory(input);
  await writeRenderedInventory(rendered);
  return { ...rendered.paths, model: rendered.model };
}

/**
 * Creates the directories (private ones made 0700 even when they exist) and writes each file to a temporary
 * name and renames it, so a concurrent reader never sees half a file.
 */
export async function writeRenderedInventory(
  rendered: Pick<RenderedInventory, 'dirs' | 'files'>,
): Promise<void> {
  for (const dir of rendered.dirs) {
    await mkdir(dir.path, { recursive: true, mode: dir.mode });
    if (dir.private) await chmod(dir.path, dir.mode);
  }
  for (const file of rendered.files) await replaceFile(file.path, file.content, file.mode);
}

async function replaceFile(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, content, { mode, flag: 'wx' });
  await rename(temporary, file);
}
