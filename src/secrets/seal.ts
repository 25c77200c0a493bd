import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';

const VERSION = 'v1';

/**
 * Encrypts `plaintext` with AES-256-GCM under the 32-byte `masterKey`. The result is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url. `context` (e.g. the key's owner) is bound as
 * associated data, so a sealed value moved to another record does not unseal.
 */
export function seal(plaintext: Buffer | string, masterKey: Buffer, context = ''): string {
  checkKey(masterKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), body]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Decrypts a value made by `seal`; throws `unseal_failed` on a wrong key, context or tampering. */
export function unseal(sealed: string, masterKey: Buffer, context = ''): Buffer {
  checkKey(masterKey);
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || body === undefined) {
    throw new AppError('unseal_failed', 'not a sealed value (expected v1.<iv>.<tag>.<ciphertext>)');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
  } catch (cause) {
    throw new AppError('unseal_failed', 'cannot unseal: wrong master key, or the value was altered', {
      cause,
    });
  }
}

function checkKey(masterKey: Buffer): void {
  if (masterKey.length !== 32)
    throw new AppError('bad_master_key', `master key must be 32 bytes, got ${masterKey.length}`);
}
