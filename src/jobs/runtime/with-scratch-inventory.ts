import { rm } from 'node:fs/promises';
import { inventoryPaths } from '../../inventory/inventory-paths.ts';
import {
  writeInventory,
  type WriteInventoryInput,
  type WrittenInventory,
} from '../../inventory/write-inventory.ts';
import { releaseControlDir } from '../../ssh/release-control-dir.ts';
import { stopControlMasters } from '../../ssh/stop-control-masters.ts';

/**
 * Writes a short-lived inventory (a few ssh commands, or one play), runs `fn` with it, and whatever
 * happens cleans up: the ssh masters its ssh_config opened to the proxies are stopped, the keys are
 * wiped and the control-socket directory is released. Resolves to what `fn` resolves to.
 */
export async function withScratchInventory<T>(
  input: WriteInventoryInput,
  fn: (written: WrittenInventory) => Promise<T>,
): Promise<T> {
  const paths = inventoryPaths(input.dir);
  let written: WrittenInventory | undefined;
  try {
    written = await writeInventory(input);
    return await fn(written);
  } finally {
    if (written)
      await stopControlMasters(
        written.sshConfig,
        input.proxies.map((proxy) => proxy.id),
      );
    // Also after a failed write: a key may already be on disk.
    await rm(paths.keysDir, { recursive: true, force: true });
    await releaseControlDir(paths);
  }
}
