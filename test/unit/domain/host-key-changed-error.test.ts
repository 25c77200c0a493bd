import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { HostKeyChangedError } from '../../../src/domain/host-key-changed-error.ts';
import { fingerprint } from '../../../src/domain/ssh-key-line.ts';

/** A fresh ed25519 public key line and what `ssh-keygen -l` prints as its fingerprint. */
async function keyWithFingerprint(dir: string, name: string): Promise<{ line: string; printed: string }> {
  const file = path.join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const printed =
    (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`])).stdout.split(' ')[1] ?? '';
  return { line: (await readFile(`${file}.pub`, 'utf8')).trim(), printed };
}

describe('HostKeyChangedError', () => {
  it('names both keys by the fingerprint ssh-keygen shows, and the command that accepts the new one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-fp-'));
    try {
      const pinned = await keyWithFingerprint(dir, 'pinned');
      const presented = await keyWithFingerprint(dir, 'presented');
      expect(fingerprint(pinned.line)).toBe(pinned.printed);
      const error = new HostKeyChangedError('proxy', 'vpc1-proxy', {
        pinned: pinned.line,
        presented: presented.line,
      });
      expect(error.status).toBe(409);
      expect(error.message).toBe(
        `proxy "vpc1-proxy": its SSH host key changed since it was pinned (pinned ${pinned.printed}, presented ${presented.printed}); ` +
          'Outpost refuses to connect. If the VM was rebuilt or its key was replaced on purpose, accept the new key with: outpost proxy rekey vpc1-proxy',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
