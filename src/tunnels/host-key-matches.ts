import { parseHostKey } from './validate-tunnel-input.ts';

/** True when the raw key blob an SSH server presented is the pinned `type base64` key line. */
export function hostKeyMatches(pinned: string, presented: Buffer): boolean {
  return parseHostKey('hostKey', pinned).blob.equals(presented);
}
