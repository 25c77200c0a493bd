import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRpm } from './build-rpm.ts';
import { generateRepoKey, type RepoKey } from './repo-key.ts';
import { copyStandinTree, repoRoot, standinSource } from './telegraf-standin-tree.ts';

/** Where role telegraf looks for the key that signs a package file by default (InfluxData's name). */
export const PACKAGE_KEY_NAME = 'influxdata-archive.key';

/** Options of {@link buildTelegrafRpm}. */
export interface TelegrafRpmOptions {
  /** Package version, RPM syntax (no '-'). Default `1.30.0`; the release is always 1. */
  version?: string;
  /** Directory the `.rpm` is written to (created). Default: a new temp dir under `var/`. */
  outDir?: string;
  /** Signs the package with this key. Default: unsigned. */
  signWith?: RepoKey;
}

/**
 * Builds the Telegraf test STAND-IN (test/fixtures/telegraf-standin, NOT Telegraf) from the same files
 * as the .deb into `<outDir>/telegraf-<version>-1.noarch.rpm` with `rpmbuild`, and returns its path.
 */
export async function buildTelegrafRpm(options: TelegrafRpmOptions = {}): Promise<string> {
  const version = options.version ?? '1.30.0';
  if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version)) {
    throw new Error(`version: not an RPM package version (no '-'): ${JSON.stringify(version)}`);
  }
  await mkdir(join(repoRoot, 'var'), { recursive: true });
  const outDir = options.outDir ?? (await mkdtemp(join(repoRoot, 'var', 'telegraf-rpm-')));
  const tree = await copyStandinTree(version, 'rpm');
  try {
    const spec = await readFile(join(standinSource, 'RPM/telegraf.spec.in'), 'utf8');
    const rpm = await buildRpm({ spec: spec.replace('@VERSION@', version), tree, outDir });
    if (options.signWith !== undefined) await options.signWith.signRpms([rpm]);
    return rpm;
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

/**
 * Builds the stand-in `.rpm` into `outDir` signed by a key made for this call (dnf checks a package
 * file's signature) and writes that key's public half beside it as {@link PACKAGE_KEY_NAME}, which
 * role telegraf trusts before installing; returns the package's path. The private key is deleted.
 */
export async function buildSignedTelegrafRpm(
  outDir: string,
  name = 'Outpost stand-in TEST KEY',
): Promise<string> {
  const key = await generateRepoKey(name);
  try {
    const rpm = await buildTelegrafRpm({ outDir, signWith: key });
    await writeFile(join(outDir, PACKAGE_KEY_NAME), key.publicKey);
    return rpm;
  } finally {
    await key.remove();
  }
}
