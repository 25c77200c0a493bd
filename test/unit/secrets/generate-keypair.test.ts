import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeypair } from '../../../src/secrets/generate-keypair.ts';

/** The 32-byte ed25519 public key inside an OpenSSH public key line. */
function rawPublicKey(line: string): Buffer {
  const blob = Buffer.from(line.split(' ')[1] ?? '', 'base64');
  return blob.subarray(4 + 11 + 4);
}

describe('generateKeypair', () => {
  // ssh2's encoder truncates the ~1 in 256 keys whose public key starts with a zero byte; with
  // 3,000 keys a generator that keeps them would pass this test with a chance of about 1 in 10^5.
  it('never returns a key OpenSSH cannot load: 3,000 keys all have a 32-byte public key', () => {
    const lengths = new Set<number>();
    for (let i = 0; i < 3000; i++) lengths.add(rawPublicKey(generateKeypair('t').publicKey).length);
    expect([...lengths]).toEqual([32]);
  });

  it('writes a private key ssh-keygen loads, whose public key is the one returned', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-keygen-'));
    try {
      const pair = generateKeypair('outpost-acme');
      const file = path.join(dir, 'key');
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
      expect(derived.split(' ').slice(0, 2)).toEqual(pair.publicKey.split(' ').slice(0, 2));
      expect(pair.publicKey.endsWith(' outpost-acme')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
