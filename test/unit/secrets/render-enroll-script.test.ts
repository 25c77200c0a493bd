import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { generateKeypair } from '../../../src/secrets/generate-keypair.ts';
import { renderEnrollScript } from '../../../src/secrets/render-enroll-script.ts';

describe('renderEnrollScript', () => {
  const adminKey = generateKeypair('outpost-admin').publicKey;
  const projectKey = generateKeypair('outpost-acme').publicKey;

  it('renders a POSIX sh script holding both public keys and a validated sudoers rule', () => {
    const script = renderEnrollScript({ project: 'acme', adminKey, projectKey });
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(`'${adminKey}'`);
    expect(script).toContain(`'${projectKey}'`);
    expect(script).toContain('visudo -cf "$candidate"');
    // The same sudoers rule as roles/cloudroot: pipelining needs sudo without a tty.
    expect(script).toContain("SUDOERS_DEFAULTS='Defaults:cloudroot !requiretty'");
    expect(script).not.toContain('PRIVATE KEY');
    // Parses as POSIX sh (dash), without running it.
    execFileSync('sh', ['-n'], { input: script });
  });

  it('refuses a key that could break out of its quotes', () => {
    expect(() =>
      renderEnrollScript({ project: 'acme', adminKey: `${adminKey}'; rm -rf / #`, projectKey }),
    ).toThrow(/adminKey: expected an SSH public key line/);
    expect(() => renderEnrollScript({ project: 'acme', adminKey, projectKey, user: 'root;id' })).toThrow(
      /user:/,
    );
  });
});
