import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

const repoRoot = resolve(import.meta.dirname, '../..');
const standinSource = join(repoRoot, 'test/fixtures/telegraf-standin');

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
  const tree = await mkdtemp(join(repoRoot, 'var', 'telegraf-tree-'));
  try {
    await cp(standinSource, tree, { recursive: true });
    await rm(join(tree, 'README.md'));
    await rm(join(tree, 'DEBIAN/control.in'));
    const control = await readFile(join(standinSource, 'DEBIAN/control.in'), 'utf8');
    await writeFile(join(tree, 'DEBIAN/control'), control.replace('@VERSION@', version));
    const binary = join(tree, 'usr/bin/telegraf');
    await writeFile(binary, (await readFile(binary, 'utf8')).replace('@VERSION@', version));
    await mkdir(join(tree, 'etc/telegraf/telegraf.d'), { recursive: true });
    // dpkg-deb refuses group/world-writable control dirs; make modes independent of the umask.
    await execa('chmod', ['-R', 'u=rwX,go=rX', tree]);
    for (const script of [
      'DEBIAN/postinst',
      'DEBIAN/prerm',
      'DEBIAN/postrm',
      'usr/bin/telegraf',
      'etc/init.d/telegraf',
    ]) {
      await chmod(join(tree, script), 0o755);
    }
    const debPath = join(outDir, `telegraf_${version}_all.deb`);
    await execa('dpkg-deb', ['--root-owner-group', '--build', tree, debPath]);
    return debPath;
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}
