import { parseHostKey } from './validate-tunnel-input.ts';

/** True when the raw key blob an SSH server presented is the pinned `type base64` key line. */
export function hostKeyMatches(pinned: string, presented: Buffer): boolean {
  return parseHostKey('hostKey', pinned).blob.equals(presented);
}

/** The presented key as an OpenSSH line, for an error message that lets an operator compare. */
export function formatHostKey(presented: Buffer): string {
  const nameLength = presented.length >= 4 ? presented.readUInt32BE(0) : 0;
  const type = presented.subarray(4, 4 + nameLength).toString('latin1') || 'unknown';
  return `${type} ${presented.toString('base64')}`;
}
