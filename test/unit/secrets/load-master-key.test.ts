import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMasterKey } from '../../../src/secrets/load-master-key.ts';

describe('loadMasterKey', () => {
  let varDir: string;
  beforeEach(async () => {
    varDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'outpost-mk-')), 'var');
  });
  afterEach(async () => {
    await rm(path.dirname(varDir), { recursive: true, force: true });
  });

  it('uses the configured key as is', async () => {
    const key = Buffer.alloc(32, 7);
    expect(await loadMasterKey({ masterKey: key, varDir })).toBe(key);
  });

  it('generates var/master.key with mode 0600 once, then reads the same key', async () => {
    const first = await loadMasterKey({ varDir });
    expect(first.length).toBe(32);
    expect((await stat(path.join(varDir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await loadMasterKey({ varDir })).equals(first)).toBe(true);
  });

  it('refuses a key file others can read, saying how to fix it', async () => {
    await loadMasterKey({ varDir });
    await chmod(path.join(varDir, 'master.key'), 0o644);
    await expect(loadMasterKey({ varDir })).rejects.toThrow(/mode is 644.*chmod 600/);
  });

  it('never writes the key anywhere but the key file', async () => {
    const key = await loadMasterKey({ varDir });
    expect((await readFile(path.join(varDir, 'master.key'), 'utf8')).trim()).toBe(key.toString('base64'));
  });
});
