import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** Options of {@link buildRpm}. */
export interface BuildRpmOptions {
  /** The spec file's text. Its `%install` may copy from `%{outpost_tree}` (the `tree` option). */
  spec: string;
  /** A directory whose files `%install` copies into the package, as `%{outpost_tree}`. */
  tree?: string;
  /** Directory the `.rpm` is moved to (created). */
  outDir: string;
}

/**
 * Runs Debian's `rpmbuild -bb` (real RPM tooling) in a private top dir and returns the path of the
 * one binary package it built, moved to `outDir`. Neither the builder's rpm database nor ~/rpmbuild is used.
 */
export async function buildRpm(options: BuildRpmOptions): Promise<string> {
  const top = await mkdtemp(join(os.tmpdir(), 'outpost-rpmbuild-'));
  try {
    const spec = join(top, 'package.spec');
    await writeFile(spec, options.spec);
    await execa('rpmbuild', [
      '-bb',
      '--quiet',
      '--define',
      `_topdir ${top}`,
      '--define',
      `outpost_tree ${options.tree ?? '/nonexistent'}`,
      // Debian's rpm defaults to a per-user database; a build needs none.
      '--define',
      `_dbpath ${join(top, 'db')}`,
      spec,
    ]);
    const built = await findRpms(join(top, 'RPMS'));
    if (built.length !== 1) throw new Error(`rpmbuild: expected one package, got ${JSON.stringify(built)}`);
    const from = built[0] as string;
    await mkdir(options.outDir, { recursive: true });
    const to = join(options.outDir, from.slice(from.lastIndexOf('/') + 1));
    await copyFile(from, to);
    return to;
  } finally {
    await rm(top, { recursive: true, force: true });
  }
}

async function findRpms(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.rpm'))
    .map((entry) => join(entry.parentPath, entry.name));
}
