import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** A throwaway signing key of a test package repository. */
export interface RepoKey {
  /** Primary key fingerprint, 40 hex digits. */
  fingerprint: string;
  /** The ASCII-armored public key, as a repository publishes it. */
  publicKey: string;
  /** Signs `.rpm` files in place with `rpmsign` (real RPM signatures, checked by dnf's gpgcheck). */
  signRpms(files: string[]): Promise<void>;
  /** Stops its gpg-agent and deletes the key. */
  remove(): Promise<void>;
}

/** Generates a fresh RSA signing key in a private GnuPG home (no passphrase: it only lives for one test run). */
export async function generateRepoKey(name = 'Outpost lab repository TEST KEY'): Promise<RepoKey> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'outpost-gpg-'));
  const gpg = (args: string[]) => execa('gpg', ['--homedir', home, '--batch', '--quiet', ...args]);
  try {
    await gpg([
      '--passphrase',
      '',
      '--quick-gen-key',
      `${name} <outpost-lab@example.invalid>`,
      'rsa2048',
      'sign',
      'never',
    ]);
    const { stdout: listing } = await gpg(['--with-colons', '--fingerprint', '--list-keys']);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
    if (fingerprint === undefined) throw new Error(`gpg: no fingerprint in ${JSON.stringify(listing)}`);
    const { stdout: publicKey } = await gpg(['--armor', '--export', fingerprint]);
    return {
      fingerprint,
      publicKey: `${publicKey}\n`,
      async signRpms(files) {
        await execa('rpmsign', [
          '--addsign',
          '--define',
          `_gpg_name ${fingerprint}`,
          '--define',
          `_gpg_path ${home}`,
          // Debian's rpm looks for gpg2, which Debian does not ship under that name.
          '--define',
          '__gpg /usr/bin/gpg',
          ...files,
        ]);
      },
      remove: () => removeHome(home),
    };
  } catch (error) {
    await removeHome(home);
    throw error;
  }
}

async function removeHome(home: string): Promise<void> {
  await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });
  await rm(home, { recursive: true, force: true });
}
