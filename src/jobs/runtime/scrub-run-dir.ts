import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { externalControlDir, inventoryPaths } from '../../inventory/inventory-paths.ts';
import { releaseControlSockets } from '../../ssh/release-control-dir.ts';

// What a run leaves that may hold a secret: credentials and Influx passwords, private keys, Ansible's
// local temp (module arguments), ssh control sockets.
const SECRET_FILES = new Set(['secret-vars.json']);
const SECRET_DIRS = new Set(['keys', 'tmp']);
const SOCKET_DIRS = new Set(['cp']);
// A run dir holds its inventory and at most a scratch inventory or two below it (verify/...).
const MAX_DEPTH = 4;

/**
 * Removes from a run dir (and the inventories inside it) everything that may hold a secret, as the
 * run itself would have when it ended: used when its worker died mid-run. Control-socket dirs, in the
 * run dir or under the system temp dir, are released (ssh -O exit, removed) when they are ours. The
 * record of the run (command.json, result.json, hosts.yml, ssh_config, extra-vars.json) stays.
 */
export async function scrubRunDir(dir: string, depth = 0): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory() && SOCKET_DIRS.has(entry.name)) await releaseControlSockets(file);
    else if (entry.isDirectory() && SECRET_DIRS.has(entry.name))
      await rm(file, { recursive: true, force: true });
    else if (SECRET_FILES.has(entry.name)) await rm(file, { force: true });
    else if (entry.isDirectory() && depth < MAX_DEPTH) await scrubRunDir(file, depth + 1);
    else if (entry.name === 'ssh_config') await releaseExternalControlDir(dir);
  }
}

/** An inventory whose path was too long for sockets kept them under the system temp dir: release it too. */
async function releaseExternalControlDir(inventoryDir: string): Promise<void> {
  let external: string | undefined;
  try {
    external = externalControlDir(inventoryPaths(inventoryDir));
  } catch {
    return; // a path Outpost would not have written an inventory to
  }
  if (external !== undefined && (await lstat(external).catch(() => undefined)))
    await releaseControlSockets(external);
}
