import path from 'node:path';
import { AppError } from '../../errors.ts';

const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
};

/**
 * A filesystem error while writing a run's own files, as a message naming the run directory and its disk
 * (Node's own ENOSPC message from a write names neither); any other error is returned unchanged.
 */
export function explainRunDirError(error: unknown, dir: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const why = typeof code === 'string' ? DISK_ERRORS[code] : undefined;
  if (!why) return error;
  return new AppError(
    'run_dir_unwritable',
    `cannot write the run directory ${dir}: ${why} (${String(code)}); free space on the disk of ${path.dirname(dir)}`,
    { cause: error },
  );
}
