import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seal, unseal } from '../../../src/secrets/seal.ts';

describe('seal / unseal', () => {
  const key = randomBytes(32);

  it('round-trips and never shows the plaintext', () => {
    const sealed = seal('-----BEGIN OPENSSH PRIVATE KEY-----\nabc', key, 'keys:admin');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(unseal(sealed, key, 'keys:admin').toString()).toBe('-----BEGIN OPENSSH PRIVATE KEY-----\nabc');
  });

  it('refuses a wrong key, a wrong context and a tampered value', () => {
    const sealed = seal('secret', key, 'a');
    expect(() => unseal(sealed, randomBytes(32), 'a')).toThrow(/wrong master key/);
    expect(() => unseal(sealed, key, 'b')).toThrow(/cannot unseal/);
    const parts = sealed.split('.');
    const tampered = [...parts.slice(0, 3), Buffer.from('other').toString('base64url')].join('.');
    expect(() => unseal(tampered, key, 'a')).toThrow(/altered/);
    expect(() => unseal('plain', key)).toThrow(/not a sealed value/);
  });

  it('refuses a master key of the wrong size', () => {
    expect(() => seal('x', randomBytes(16))).toThrow(/32 bytes, got 16/);
  });
});
