import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../../src/secrets/generate-keypair.ts';
import { readKnownHosts } from '../../../src/inventory/read-known-hosts.ts';
import { inventoryPaths } from '../../../src/inventory/inventory-paths.ts';
import { releaseControlSockets } from '../../../src/ssh/release-control-dir.ts';
import { writeInventory } from '../../../src/inventory/write-inventory.ts';
import { HOST_KEY, host, proxy } from './fixtures.ts';

describe('writeInventory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-inv-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A project with a host behind a proxy, and both keys. */
  const writeAcme = async () => {
    const { privateKey } = generateKeypair('t');
    const written = await writeInventory({
      dir: path.join(dir, 'acme'),
      project: 'acme',
      hosts: [host('vm1', '198.51.100.5', { hostKey: HOST_KEY })],
      proxies: [proxy('edge', '198.51.100.0/26')],
      keys: { project: privateKey, admin: privateKey },
    });
    return { privateKey, written };
  };

  it('writes the four artefacts, keys 0600 in a 0700 directory, and returns their paths', async () => {
    const { privateKey, written } = await writeAcme();
    expect(written.hostsFile).toBe(path.join(dir, 'acme/hosts.yml'));
    expect((await stat(written.projectKey)).mode & 0o777).toBe(0o600);
    expect((await stat(written.adminKey)).mode & 0o777).toBe(0o600);
    expect((await stat(written.keysDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(written.projectKey, 'utf8')).toBe(
      privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`,
    );
    expect(await readFile(written.sshConfig, 'utf8')).toContain('ProxyJump proxy.edge');
    expect(await readFile(written.hostsFile, 'utf8')).not.toContain('PRIVATE KEY');
    expect(await readKnownHosts(written.knownHosts)).toEqual(new Map([['vm1', HOST_KEY]]));
  });

  it('writes only files inventories/README.md lists', async () => {
    const { written } = await writeAcme();
    const names = (await readdir(written.dir, { recursive: true })).map((name) =>
      name === 'cp' || name === 'keys' ? `${name}/` : name,
    );
    expect(names.sort()).toEqual([
      'cp/',
      'hosts.yml',
      'keys/',
      'keys/admin',
      'keys/project',
      'known_hosts',
      'ssh_config',
    ]);
    const readme = await readFile(
      path.resolve(import.meta.dirname, '../../../inventories/README.md'),
      'utf8',
    );
    for (const name of names.filter((n) => n !== 'keys/')) expect(readme, name).toContain(`| \`${name}\``);
  });

  it('refuses a private key that is not one, without echoing it', async () => {
    const attempt = writeInventory({
      dir,
      project: 'acme',
      hosts: [],
      proxies: [],
      keys: { project: 'hunter2' },
    });
    await expect(attempt).rejects.toThrow(/keys\.project: expected an OpenSSH private key/);
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });

  describe('the control-socket dir under the system temp dir (a run dir too long for a socket path)', () => {
    const NOBODY = 65534;
    let longDir: string;
    let controlDir: string;
    beforeEach(() => {
      longDir = path.join(dir, 'runs', 'job-a-run-dir-long-enough-for-the-fallback');
      controlDir = inventoryPaths(longDir).controlDir;
      expect(controlDir.startsWith(`${os.tmpdir()}/outpost-cp-`)).toBe(true);
    });
    afterEach(async () => {
      await rm(controlDir, { recursive: true, force: true });
    });
    const write = () =>
      writeInventory({
        dir: longDir,
        project: 'acme',
        hosts: [host('vm1', '198.51.100.5', { hostKey: HOST_KEY })],
        proxies: [proxy('edge', '198.51.100.0/26')],
        keys: { project: generateKeypair('t').privateKey },
      });

    it('is created 0700 and ours; a leftover of our own is used again', async () => {
      await write();
      const created = await stat(controlDir);
      expect(created.mode & 0o777).toBe(0o700);
      expect(created.uid).toBe(process.getuid?.());
      await write();
      expect((await stat(controlDir)).ino).toBe(created.ino);
    });

    it('refuses one another user made first, naming it and its owner, and writes no key', async () => {
      await mkdir(controlDir, { mode: 0o700 });
      await chown(controlDir, NOBODY, NOBODY);
      await expect(write()).rejects.toThrow(
        `control-socket directory ${controlDir} is owned by uid ${NOBODY}, not by this service (uid ${process.getuid?.()})`,
      );
      await expect(stat(path.join(longDir, 'keys/project'))).rejects.toThrow(/ENOENT/);
      // Nor is it talked to or removed when a run releases its control sockets.
      await releaseControlSockets(controlDir);
      expect((await stat(controlDir)).uid).toBe(NOBODY);
    });

    it('refuses one of ours that others may enter, and a symlink', async () => {
      await mkdir(controlDir, { mode: 0o700 });
      await chmod(controlDir, 0o777);
      await expect(write()).rejects.toThrow(/has mode 0777, not 0700/);
      await rm(controlDir, { recursive: true });
      await mkdir(path.join(dir, 'elsewhere'), { mode: 0o700 });
      await symlink(path.join(dir, 'elsewhere'), controlDir);
      await expect(write()).rejects.toThrow(/is not a directory/);
    });
  });
});
