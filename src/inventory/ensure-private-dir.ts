import { lstat, mkdir } from 'node:fs/promises';
import { AppError } from '../errors.ts';

/**
 * Creates `dir` (its parent must exist) as a directory only this service can enter, or accepts one that
 * already is: a real directory (no symlink), owned by this process's uid, mode 0700. Anything else is
 * refused, because ssh control sockets in a directory another local user controls can be hijacked.
 */
export async function ensurePrivateDir(dir: string, what = 'control-socket directory'): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  }
  const why = await explainNotPrivate(dir);
  if (why === undefined) return;
  throw new AppError(
    'unsafe_directory',
    `${what} ${dir} ${why}: refused, since ssh connections through it could be taken over; remove it (and find out who made it)`,
    { details: { dir } },
  );
}

/** Why the existing `dir` is not a private directory of this service, or undefined when it is one. */
export async function explainNotPrivate(dir: string): Promise<string | undefined> {
  const info = await lstat(dir);
  if (!info.isDirectory()) return 'is not a directory (a symlink or a file is in its place)';
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid)
    return `is owned by uid ${info.uid}, not by this service (uid ${uid})`;
  if ((info.mode & 0o777) !== 0o700) return `has mode 0${(info.mode & 0o777).toString(8)}, not 0700`;
  return undefined;
}
