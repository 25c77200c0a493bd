import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError, quote } from '../../errors.ts';

/** Folders a job may take a playbook from, relative to the repository root. */
export const PLAYBOOK_DIRS = ['playbooks', 'test/fixtures/playbooks'];

/** Playbook names a job may ask for: a relative path of safe segments ending in .yml or .yaml. */
export const PLAYBOOK_PATTERN = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.ya?ml$/;

/**
 * Resolves a requested playbook to an existing file inside one of {@link PLAYBOOK_DIRS}; refuses
 * anything else (absolute paths, `..`, symlinks leading out).
 */
export async function resolvePlaybook(rootDir: string, requested: string): Promise<string> {
  if (!PLAYBOOK_PATTERN.test(requested) || requested.split('/').includes('..')) {
    throw new ValidationError('playbook', `expected a relative .yml path, got ${quote(requested)}`);
  }
  const file = await realpath(path.resolve(rootDir, requested)).catch(() => undefined);
  const allowed = await Promise.all(
    PLAYBOOK_DIRS.map((dir) => realpath(path.join(rootDir, dir)).catch(() => undefined)),
  );
  if (!file || !allowed.some((dir) => dir && file.startsWith(dir + path.sep))) {
    throw new ValidationError(
      'playbook',
      `no such playbook under ${PLAYBOOK_DIRS.join(' or ')}: ${quote(requested)}`,
    );
  }
  return file;
}
