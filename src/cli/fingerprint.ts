import { createHash } from 'node:crypto';

/** `ssh-ed25519 SHA256:...` for a key line, as `ssh-keygen -lf` shows it; the line itself when it is not one. */
export function fingerprint(keyLine: string): string {
  const [type = '', blob = ''] = keyLine.trim().split(/\s+/);
  if (!blob) return keyLine;
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `${type} SHA256:${digest.replace(/=+$/, '')}`;
}
