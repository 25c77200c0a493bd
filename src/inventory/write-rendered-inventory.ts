import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { ensurePrivateDir } from './ensure-private-dir.ts';
import type { RenderedInventory } from './render-inventory.ts';

/**
 * Creates the directories (private ones made 0700 even when they exist, exclusive ones refused unless they
 * are ours alone) and writes each file to a temporary
 * name and renames it, so a concurrent reader never sees half a file.
 */
export async function writeRenderedInventory(
  rendered: Pick<RenderedInventory, 'dirs' | 'files'>,
): Promise<void> {
  for (const dir of rendered.dirs) {
    if (dir.exclusive) {
      await ensurePrivateDir(dir.path);
      continue;
    }
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
