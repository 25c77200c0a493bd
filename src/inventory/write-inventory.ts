import type { InventoryModel } from './build-inventory-model.ts';
import type { InventoryPaths } from './inventory-paths.ts';
import { renderInventory, type WriteInventoryInput } from './render-inventory.ts';
import { writeRenderedInventory } from './write-rendered-inventory.ts';

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
