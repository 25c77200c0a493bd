import { describe, expect, it } from 'vitest';
import { classifySshFailure } from '../../../src/ssh/classify-ssh-failure.ts';

const proxy = { id: 'vpc1-proxy', publicAddress: '203.0.113.2', sshPort: 22 };

describe('classifySshFailure', () => {
  it('names the proxy when ssh could not connect to it', () => {
    const failure = classifySshFailure(
      'ssh: connect to host 203.0.113.2 port 22: Connection refused\r\nConnection closed by UNKNOWN port 65535\r\n',
      proxy,
    );
    expect(failure.reason).toBe('refused');
    expect(failure.detail).toMatch(/^proxy "vpc1-proxy" \(203\.0\.113\.2:22\): connection refused/);
  });

  it('says the failure was beyond the proxy when the proxy could not reach the host', () => {
    const failure = classifySshFailure(
      'channel 0: open failed: connect failed: No route to host\nstdio forwarding failed\nConnection closed by UNKNOWN port 65535\n',
      proxy,
    );
    expect(failure).toMatchObject({ reason: 'no-route' });
    expect(failure.detail).toMatch(/^through proxy "vpc1-proxy": no route/);
  });

  it('turns a changed host key into the message with the rekey command', () => {
    const failure = classifySshFailure(
      '@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@\nHost key for vpc1-vm2 has changed and you have requested strict checking.\nHost key verification failed.\n',
    );
    expect(failure.reason).toBe('host-key-changed');
    expect(failure.detail).toContain('outpost host rekey vpc1-vm2');
  });

  it('tells refused keys, timeouts and tunnel keeper errors apart', () => {
    expect(classifySshFailure('cloudroot@vpc1-vm1: Permission denied (publickey).').reason).toBe(
      'auth-failed',
    );
    expect(classifySshFailure('ssh: connect to host 198.51.100.5 port 22: Connection timed out').reason).toBe(
      'timeout',
    );
    expect(
      classifySshFailure(
        'proxy "vpc1-proxy": not connected after 8000 ms: connect ECONNREFUSED 203.0.113.2:22',
      ).reason,
    ).toBe('refused');
    expect(classifySshFailure('something else entirely').reason).toBe('error');
  });

  it('keeps the detail on one printable line of at most 500 characters', () => {
    const failure = classifySshFailure(`Permission denied\n${'x'.repeat(2000)}\u0007`);
    expect(failure.detail.length).toBeLessThanOrEqual(500);
    // eslint-disable-next-line no-control-regex
    expect(failure.detail).not.toMatch(/[\u0000-\u001f]/);
  });
});
