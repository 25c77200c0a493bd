import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { checkOwnerOnly } from './check-owner-only.ts';

/**
 * The master key sealing private keys: `config.masterKey` when set, else `<varDir>/master.key`,
 * generated (32 random bytes, base64, mode 0600) on first start. Refuses a key file that group or
 * others can read, and one that does not hold 32 bytes.
 */
export async function loadMasterKey(config: {
  masterKey?: Buffer | undefined;
  varDir: string;
}): Promise<Buffer> {
  if (config.masterKey) return config.masterKey;
  const file = path.join(config.varDir, 'master.key');
  await mkdir(config.varDir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Already there (maybe written by another node a moment ago): read it below.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  await checkOwnerOnly(file, 'a master key');
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== 32)
    throw new ConfigError(file, `expected 32 bytes in base64, found ${key.length} bytes`);
  return key;
}
