import { describe, expect, it } from 'vitest';
import { explainSshFailure } from '../../../src/ssh/explain-ssh-failure.ts';

describe('explainSshFailure', () => {
  it('names the host whose key changed and gives the rekey command', () => {
    const stderr =
      '@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n' +
      'Host key for vpc1-vm1 has changed and you have requested strict checking.\nHost key verification failed.';
    const error = explainSshFailure(stderr);
    expect(error?.code).toBe('host_key_changed');
    expect(error?.message).toMatch(
      /^host "vpc1-vm1": its SSH host key changed.*outpost host rekey vpc1-vm1$/,
    );
  });

  it('recognises a proxy by its alias', () => {
    expect(
      explainSshFailure('Host key for proxy.edge has changed and you have requested strict checking.')
        ?.message,
    ).toContain('outpost proxy rekey edge');
  });

  it('explains a host with no pinned key, and ignores other failures', () => {
    expect(
      explainSshFailure('No ED25519 host key is known for vm2 and you have requested strict checking.')?.code,
    ).toBe('host_key_unknown');
    expect(explainSshFailure('Connection timed out')).toBeUndefined();
  });
});
