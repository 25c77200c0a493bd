import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LAB_REPO_KEY_PATH, formatLabRepoUrl } from '../lab/redhat-sim.ts';
import { generateRepoKey } from './repo-key.ts';
import { serveDirectory } from './serve-directory.ts';
import { PACKAGE_KEY_NAME, buildTelegrafRpm } from './telegraf-rpm.ts';
import { repoRoot } from './telegraf-standin-tree.ts';

/** The dnf repositories of a lab's `redhat-sim` VMs, served by {@link startLabRpmRepo}. */
export interface LabRpmRepo {
  /** `http://<control address>`: what the VMs' preconfigured BaseOS repository points at. */
  url: string;
  /** The repositories' signing key (generated for this run): its URL, its file on the controller, its fingerprint. */
  keyUrl: string;
  keyFile: string;
  fingerprint: string;
  /** The Telegraf repository's yum baseurl, laid out like InfluxData's (`$basearch` left to dnf). */
  telegrafBaseurl: string;
  /**
   * A controller directory for the offline method: the signed stand-in packages and the signing key,
   * under the name role telegraf looks for by default (InfluxData's `influxdata-archive.key`).
   */
  packageDir: string;
  /** The URL of the signed stand-in package of `version`, for the url method. */
  packageUrl(version: string): string;
  /** Paths the VMs asked for, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Serves, on the control plane's lab address (port 80), a createrepo_c BaseOS repository (empty, as
 * the simulation's packages come from Debian) and a Telegraf repository holding the Telegraf test
 * STAND-IN (NOT Telegraf) as signed `.rpm`s of `versions`, so dnf installs with gpgcheck on.
 */
export async function startLabRpmRepo(options: {
  controlAddress: string;
  versions: string[];
}): Promise<LabRpmRepo> {
  await mkdir(path.join(repoRoot, 'var'), { recursive: true });
  const root = await mkdtemp(path.join(repoRoot, 'var', 'lab-rpm-repo-'));
  const key = await generateRepoKey();
  try {
    const arch = os.machine();
    const baseos = path.join(root, 'el9/baseos', arch);
    const telegraf = path.join(root, 'influxdata/stable', arch, 'main');
    const packageDir = path.join(root, 'packages');
    await Promise.all([baseos, telegraf].map((dir) => mkdir(dir, { recursive: true })));
    for (const version of options.versions) {
      const rpm = await buildTelegrafRpm({ version, outDir: packageDir, signWith: key });
      await copyFile(rpm, path.join(telegraf, path.basename(rpm)));
    }
    const keyFile = path.join(root, LAB_REPO_KEY_PATH);
    await writeFile(keyFile, key.publicKey);
    await writeFile(path.join(packageDir, PACKAGE_KEY_NAME), key.publicKey);
    for (const dir of [baseos, telegraf]) await execa('createrepo_c', ['--quiet', dir]);
    const server = await serveDirectory(root, options.controlAddress, 80);
    const url = formatLabRepoUrl(options.controlAddress);
    return {
      url,
      keyUrl: `${url}/${LAB_REPO_KEY_PATH}`,
      keyFile,
      fingerprint: key.fingerprint,
      telegrafBaseurl: `${url}/influxdata/stable/$basearch/main`,
      packageDir,
      packageUrl: (version) => `${url}/influxdata/stable/${arch}/main/telegraf-${version}-1.noarch.rpm`,
      requests: server.requests,
      async stop() {
        await server.stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  } finally {
    await key.remove();
  }
}
