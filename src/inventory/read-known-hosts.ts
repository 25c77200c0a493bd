import { readFile } from 'node:fs/promises';
import { formatHostKey, parseSshKeyLine } from '../domain/ssh-key-line.ts';

/**
 * Reads a generated known_hosts back: alias -> `type base64`. After a first-contact run with
 * `hostKeyPolicy: 'accept-new'`, the new lines are the keys to pin (aliases `<host>` and `proxy.<id>`).
 */
export async function readKnownHosts(file: string): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return keys;
    throw error;
  }
  for (const line of text.split('\n')) {
    const match = /^([a-z0-9.-]+) (.+)$/.exec(line.trim());
    const key = match?.[2] ? parseSshKeyLine(match[2]) : undefined;
    if (match?.[1] && key) keys.set(match[1], formatHostKey(key));
  }
  return keys;
}
