import { ValidationError } from '../errors.ts';
import { checkPrivateKey } from '../domain/check-private-key.ts';
import type { JobInput } from './job-input.ts';

/**
 * Parses the private key given with a job at submit (OpenSSH or PEM, unlocked by `passphrase` when
 * encrypted), so a bad one is refused now, naming the field, instead of failing the job later.
 */
export function checkCredentials(credentials: JobInput['credentials']): void {
  if (!credentials) return;
  if (credentials.passphrase !== undefined && credentials.privateKey === undefined)
    throw new ValidationError('credentials.passphrase', 'only with credentials.privateKey');
  if (credentials.privateKey !== undefined) checkPrivateKey(credentials.privateKey, credentials.passphrase);
}
