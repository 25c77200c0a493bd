import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Public key algorithms Outpost accepts for host keys and authorized keys. */
export const KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;

/** A public key split into its algorithm, base64 blob and optional comment. */
export interface SshKeyLine {
  type: (typeof KEY_TYPES)[number];
  blob: string;
  comment: string | undefined;
}

const LINE = /^([a-z0-9-]+) ([A-Za-z0-9+/]{16,8192}={0,2})(?: ([A-Za-z0-9@._:+=-]{1,200}))?$/;

/**
 * Parses `type base64 [comment]` and checks the blob really encodes a key of that type, so a line
 * cannot smuggle options, newlines or a mismatched key into known_hosts or authorized_keys.
 */
export function parseSshKeyLine(text: string): SshKeyLine | undefined {
  const match = LINE.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const type = KEY_TYPES.find((known) => known === match[1]);
  if (!type) return undefined;
  const raw = Buffer.from(match[2], 'base64');
  if (raw.length < 8 || raw.toString('base64') !== match[2]) return undefined;
  const length = raw.readUInt32BE(0);
  if (raw.subarray(4, 4 + length).toString('latin1') !== type) return undefined;
  return { type, blob: match[2], comment: match[3] };
}

/** The raw key blob an SSH server presented, as a `type base64` line (type read from the blob itself). */
export function formatKeyBlob(blob: Buffer): string {
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = blob.subarray(4, 4 + nameLength).toString('latin1') || 'unknown';
  return `${type} ${blob.toString('base64')}`;
}

/** OpenSSH's fingerprint of a key line (`SHA256:` and unpadded base64), as `ssh-keygen -l` prints it. */
export function fingerprint(line: string): string {
  const blob = line.trim().split(/\s+/)[1] ?? '';
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** `type blob` with no comment: the form stored as a pinned host key. */
export function formatHostKey(key: SshKeyLine): string {
  return `${key.type} ${key.blob}`;
}

/** A fingerprint as `ssh-keygen -lf` prints it (and the operator may read it off the VM's console). */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** True when two key lines hold the same key, whatever their comments. */
export function sameKey(a: string, b: string): boolean {
  const left = parseSshKeyLine(a);
  const right = parseSshKeyLine(b);
  return !!left && !!right && left.type === right.type && left.blob === right.blob;
}

/** Zod schema for a host key: normalised to `type blob`. */
export const hostKeySchema = z
  .string()
  .refine(
    (text) => parseSshKeyLine(text) !== undefined,
    'expected an SSH public key line such as "ssh-ed25519 AAAA..."',
  )
  .transform((text) => formatHostKey(parseSshKeyLine(text) as SshKeyLine));

/** Zod schema for an authorized_keys public key line, comment kept. */
export const publicKeySchema = z
  .string()
  .refine(
    (text) => parseSshKeyLine(text) !== undefined,
    'expected an SSH public key line such as "ssh-ed25519 AAAA... comment" (comment: letters, digits, @._:+=-)',
  )
  .transform((text) => text.trim());
