import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The API token: the configured one, else the one in `<varDir>/api.token`, else a new one written there
 * (0600). `created` tells the caller to print it once.
 */
export async function ensureApiToken(
  varDir: string,
  configured: string | undefined,
): Promise<{ token: string; created: boolean; file: string }> {
  const file = path.join(varDir, 'api.token');
  if (configured) return { token: configured, created: false, file };
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) return { token: existing, created: false, file };
  await mkdir(varDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    // Another process won the race: use its token.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  const stored = (await readFile(file, 'utf8')).trim();
  return { token: stored, created: stored === token, file };
}
