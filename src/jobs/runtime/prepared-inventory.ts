import { externalControlDir, type InventoryPaths } from '../../inventory/inventory-paths.ts';
import type { PreparedInventory } from './job-deps.ts';

/** A run's inventory: its secret files, and its control-socket dir when that lies outside the run dir (masters stopped and both removed when the run ends). */
export function preparedInventory(written: InventoryPaths, secretFiles: string[]): PreparedInventory {
  const scratch = externalControlDir(written);
  return {
    inventory: written.hostsFile,
    secretFiles,
    sshConfig: written.sshConfig,
    ...(scratch === undefined ? {} : { controlDirs: [scratch] }),
  };
}
