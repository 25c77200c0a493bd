import { createPrivateKey } from 'node:crypto';
import ssh2 from 'ssh2';
import { ValidationError } from '../errors.ts';

/** What a private key given with a job turned out to be. */
export interface CheckedPrivateKey {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ... (PKCS#8: `rsa` or `ec`). */
  type: string;
  /** True when it needs the passphrase (the run writes an unlocked copy). */
  encrypted: boolean;
}

const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\n[A-Za-z0-9+/=:,\-\n ]+-----END \1-----\n?$/;

/**
 * Parses a private key given once for enrollment: OpenSSH or PEM (PKCS#1, SEC1, PKCS#8), unencrypted
 * or unlocked by `passphrase`. Throws a ValidationError naming `credentials.privateKey` or
 * `credentials.passphrase`; the messages never hold the key or the passphrase.
 */
export function checkPrivateKey(text: string, passphrase?: string): CheckedPrivateKey {
  const key = text.replace(/\r\n/g, '\n').trim() + '\n';
  const match = PEM.exec(key);
  const label = match?.[1];
  if (!label || !/^(OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY$/.test(label))
    throw invalid('expected an OpenSSH or PEM private key ("-----BEGIN ... PRIVATE KEY-----")');
  // PKCS#8 is not ssh2's to read: OpenSSL (node:crypto) is; OpenSSH 9.2 reads only its RSA and EC keys.
  if (label === 'PRIVATE KEY' || label === 'ENCRYPTED PRIVATE KEY') {
    const encrypted = label === 'ENCRYPTED PRIVATE KEY';
    if (encrypted && !passphrase) throw needsPassphrase();
    let type: string | undefined;
    try {
      type = createPrivateKey({ key, ...(passphrase ? { passphrase } : {}) }).asymmetricKeyType;
    } catch {
      throw encrypted ? wrongPassphrase() : invalid('not a readable PKCS#8 private key');
    }
    if (type !== 'rsa' && type !== 'ec')
      throw invalid(
        `a PKCS#8 ${type ?? 'unknown'} key, which OpenSSH cannot read: give the key in OpenSSH form`,
      );
    return { type, encrypted };
  }
  const unlocked = ssh2.utils.parseKey(key);
  if (!(unlocked instanceof Error)) return { type: typeOf(unlocked), encrypted: false };
  if (!/passphrase/i.test(unlocked.message)) throw invalid('not a readable private key');
  if (!passphrase) throw needsPassphrase();
  const parsed = ssh2.utils.parseKey(key, passphrase);
  if (parsed instanceof Error) throw wrongPassphrase();
  return { type: typeOf(parsed), encrypted: true };
}

function typeOf(parsed: ssh2.ParsedKey | ssh2.ParsedKey[]): string {
  return (Array.isArray(parsed) ? parsed[0]?.type : parsed.type) ?? 'unknown';
}

function invalid(message: string): ValidationError {
  return new ValidationError('credentials.privateKey', message);
}

function needsPassphrase(): ValidationError {
  return new ValidationError('credentials.passphrase', 'required: credentials.privateKey is encrypted');
}

function wrongPassphrase(): ValidationError {
  return new ValidationError('credentials.passphrase', 'does not unlock credentials.privateKey');
}
