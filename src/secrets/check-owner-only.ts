import { stat } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';

/** Refuses a secret file that group or others can read or write, naming the file, its mode and the fix. */
export async function checkOwnerOnly(file: string, what: string): Promise<void> {
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      file,
      `mode is ${mode.toString(8)}; ${what} must be readable by its owner only (chmod 600 ${file})`,
    );
  }
}
