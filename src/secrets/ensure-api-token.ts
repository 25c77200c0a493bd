import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { checkOwnerOnly } from './check-owner-only.ts';

/**
 * The API token: the configured one, else the one in `<varDir>/api.token`, else a new one written there
 * (0600). Refuses a token file that group or others can read, as for the master key. `created` tells the
 * caller to show it once, on a terminal only.
 */
export async function ensureApiToken(
  varDir: string,
  configured: string | undefined,
): Promise<{ token: string; created: boolean; file: string }> {
  const file = path.join(varDir, 'api.token');
  if (configured) return { token: configured, created: false, file };
  await mkdir(varDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    // Already there (an earlier start, or another process won the race): use that one.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  await checkOwnerOnly(file, 'an API token file');
  const stored = (await readFile(file, 'utf8')).trim();
  if (stored === '') throw new ConfigError(file, 'is empty; remove it and a new token is generated at start');
  return { token: stored, created: stored === token, file };
}
