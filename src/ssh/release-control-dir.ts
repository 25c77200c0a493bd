import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { childEnv } from '../child-env.ts';
import { explainNotPrivate } from '../inventory/ensure-private-dir.ts';
import { externalControlDir, type InventoryPaths } from '../inventory/inventory-paths.ts';

/** Stops every ssh ControlMaster whose socket is in `dir` (`ssh -O exit`), then removes the dir; leaves alone a dir that is not a private one of ours. */
export async function releaseControlSockets(dir: string): Promise<void> {
  // A directory that is not ours (another user made it first) is neither talked to nor removed.
  if ((await explainNotPrivate(dir).catch(() => undefined)) !== undefined) return;
  const sockets = await readdir(dir).catch(() => []);
  await Promise.all(
    sockets.map((name) =>
      execa('ssh', ['-o', `ControlPath=${path.join(dir, name)}`, '-O', 'exit', 'outpost-control'], {
        env: childEnv(),
        extendEnv: false,
        reject: false,
        timeout: 10_000,
      }),
    ),
  );
  await rm(dir, { recursive: true, force: true });
}

/** Releases an inventory's control-socket dir when it lies outside the inventory (a long path's fallback under /tmp). */
export async function releaseControlDir(paths: Pick<InventoryPaths, 'dir' | 'controlDir'>): Promise<void> {
  const dir = externalControlDir(paths);
  if (dir !== undefined) await releaseControlSockets(dir);
}
