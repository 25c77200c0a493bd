import { appendFile, cp, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where tests leave what `scripts/scan-secrets` reads after the suite: env `OUTPOST_TEST_EVIDENCE`
 * (scripts/test sets it to var/test-evidence). Unset means keep nothing.
 */
export function evidenceDir(): string | undefined {
  const dir = process.env.OUTPOST_TEST_EVIDENCE;
  return dir ? path.resolve(dir) : undefined;
}

/** Adds a password the tests use to the list the scan looks for (then deletes); no-op when unset. */
export async function recordTestSecret(secret: string): Promise<void> {
  const dir = evidenceDir();
  if (!dir) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await appendFile(path.join(dir, 'secrets.list'), `${secret}\n`, { mode: 0o600 });
}

// Files that hold a secret on purpose: the service's master key and the test API token.
const KEPT_OUT = new Set(['master.key', 'api.token']);

/**
 * Copies `dir` (a Redis data dir, a service's var dir with its logs and run dirs) into the evidence dir
 * before a test removes it; sockets and the files that hold secrets on purpose are left out.
 */
export async function keepEvidence(dir: string, label: string): Promise<void> {
  const root = evidenceDir();
  if (!root) return;
  const dest = path.join(root, `${label}-${path.basename(dir)}-${Date.now()}`);
  await cp(dir, dest, {
    recursive: true,
    filter: async (source) => {
      if (KEPT_OUT.has(path.basename(source))) return false;
      const stat = await lstat(source).catch(() => undefined);
      return !!stat && (stat.isDirectory() || stat.isFile());
    },
  }).catch((error: unknown) => console.error(`test evidence: could not keep ${dir}: ${String(error)}`));
}
