import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

export const repoRoot = resolve(import.meta.dirname, '../..');
/** The Telegraf test STAND-IN's files (NOT Telegraf): payload, DEBIAN/ control files, RPM/ spec. */
export const standinSource = join(repoRoot, 'test/fixtures/telegraf-standin');

/**
 * Copies the stand-in's payload, with `version` filled in, into a new directory under `var/` and
 * returns it; the caller removes it. For `deb` the tree keeps `DEBIAN/` (control written from
 * control.in); for `rpm` it holds the payload only, since the spec lives outside the package.
 */
export async function copyStandinTree(version: string, format: 'deb' | 'rpm'): Promise<string> {
  await mkdir(join(repoRoot, 'var'), { recursive: true });
  const tree = await mkdtemp(join(repoRoot, 'var', `telegraf-${format}-tree-`));
  await cp(standinSource, tree, { recursive: true });
  await rm(join(tree, 'README.md'));
  await rm(join(tree, 'RPM'), { recursive: true });
  if (format === 'deb') {
    await rm(join(tree, 'DEBIAN/control.in'));
    const control = await readFile(join(standinSource, 'DEBIAN/control.in'), 'utf8');
    await writeFile(join(tree, 'DEBIAN/control'), control.replace('@VERSION@', version));
  } else {
    await rm(join(tree, 'DEBIAN'), { recursive: true });
  }
  const binary = join(tree, 'usr/bin/telegraf');
  await writeFile(binary, (await readFile(binary, 'utf8')).replace('@VERSION@', version));
  await mkdir(join(tree, 'etc/telegraf/telegraf.d'), { recursive: true });
  // dpkg-deb refuses group/world-writable control dirs; make modes independent of the umask.
  await execa('chmod', ['-R', 'u=rwX,go=rX', tree]);
  const scripts = ['usr/bin/telegraf', 'etc/init.d/telegraf'];
  if (format === 'deb') scripts.push('DEBIAN/postinst', 'DEBIAN/prerm', 'DEBIAN/postrm');
  for (const script of scripts) await chmod(join(tree, script), 0o755);
  return tree;
}
