import { rm } from 'node:fs/promises';
import path from 'node:path';
import { inventoryPaths } from '../../inventory/inventory-paths.ts';

/** Where a run keeps the extra vars that hold secrets (credentials, tokens), removed when the run ends. */
export function secretVarsFile(runDir: string): string {
  return path.join(runDir, 'secret-vars.json');
}

/**
 * Removes what holds secrets in the run dir of a run that could not clean up after itself (its serve was
 * killed): the secret extra vars and the inventory's keys. The record of the run (command, result) stays.
 */
export async function removeRunSecrets(runDir: string): Promise<void> {
  await rm(secretVarsFile(runDir), { force: true });
  await rm(inventoryPaths(runDir).keysDir, { recursive: true, force: true });
}
