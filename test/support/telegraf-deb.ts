import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { copyStandinTree, repoRoot } from './telegraf-standin-tree.ts';

/** Options of {@link buildTelegrafDeb}. */
export interface TelegrafDebOptions {
  /** Package version, Debian syntax. Default `1.30.0`. */
  version?: string;
  /** Directory the `.deb` is written to (created). Default: a new temp dir under `var/`. */
  outDir?: string;
}

/**
 * Builds the Telegraf test STAND-IN (test/fixtures/telegraf-standin, not Telegraf) into
 * `<outDir>/telegraf_<version>_all.deb` with `dpkg-deb` and returns the file's path.
 */
export async function buildTelegrafDeb(options: TelegrafDebOptions = {}): Promise<string> {
  const version = options.version ?? '1.30.0';
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) {
    throw new Error(`version: not a Debian package version: ${JSON.stringify(version)}`);
  }
  await mkdir(join(repoRoot, 'var'), { recursive: true });
  const outDir = options.outDir ?? (await mkdtemp(join(repoRoot, 'var', 'telegraf-deb-')));
  await mkdir(outDir, { recursive: true });
  const tree = await copyStandinTree(version, 'deb');
  try {
    const debPath = join(outDir, `telegraf_${version}_all.deb`);
    await execa('dpkg-deb', ['--root-owner-group', '--build', tree, debPath]);
    return debPath;
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}
