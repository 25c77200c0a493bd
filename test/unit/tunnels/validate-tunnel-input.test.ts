import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Proxy } from '../../../src/domain/proxy.ts';
import { formatKeyBlob } from '../../../src/domain/ssh-key-line.ts';
import { hostKeyMatches } from '../../../src/tunnels/host-key-matches.ts';
import {
  validateLocalForwardSpec,
  validateRemoteForwardSpec,
  validateTunnelProxy,
} from '../../../src/tunnels/validate-tunnel-input.ts';

/** An ed25519 public key as sshd presents it (blob) and as it is pinned (`ssh-ed25519 base64`). */
function makeHostKey(): { blob: Buffer; line: string } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]);
  return { blob, line: `ssh-ed25519 ${blob.toString('base64')}` };
}

const key = makeHostKey();
const proxy = {
  id: 'vpc1-proxy',
  publicAddress: '203.0.113.2',
  sshPort: 22,
  vpcAddress: '198.51.100.1',
  user: 'cloudroot',
  hostKey: key.line,
};

describe('validateTunnelProxy', () => {
  it('accepts a registry proxy as is', () => {
    const fromRegistry: Proxy = { ...proxy, project: 'acme', networks: ['198.51.100.0/26'] };
    expect(validateTunnelProxy(fromRegistry)).toBe(fromRegistry);
  });

  it.each([
    ['id', { id: 'Bad Name' }, /proxy.id: not a valid name: "Bad Name"/],
    [
      'publicAddress',
      { publicAddress: '203.0.113.2 -oProxyCommand=x' },
      /proxy.publicAddress: .*ProxyCommand/,
    ],
    ['sshPort', { sshPort: 70000 }, /proxy.sshPort: expected a port from 1 to 65535, got 70000/],
    ['user', { user: 'root;id' }, /proxy.user: not a valid user name: "root;id"/],
    ['hostKey', { hostKey: 'ssh-ed25519 !!!' }, /proxy.hostKey: not an OpenSSH public key line/],
  ])('refuses a bad %s, naming the field and quoting the value', (_, patch, message) => {
    expect(() => validateTunnelProxy({ ...proxy, ...patch })).toThrow(message);
  });

  it('refuses a host key whose data names another key type', () => {
    const other = key.line.replace('ssh-ed25519', 'ssh-rsa');
    expect(() => validateTunnelProxy({ ...proxy, hostKey: other })).toThrow(
      /proxy.hostKey: not an OpenSSH public key line \(a type, then a base64 key of that type\): "ssh-rsa /,
    );
  });
});

describe('forward specs', () => {
  it('accepts targets by address or host name and refuses bad ports and probes', () => {
    expect(validateLocalForwardSpec({ targetHost: '198.51.100.5', targetPort: 22 }).targetPort).toBe(22);
    expect(
      validateRemoteForwardSpec({ targetHost: 'localhost', targetPort: 8086, bindPort: 0 }).bindPort,
    ).toBe(0);
    expect(() => validateLocalForwardSpec({ targetHost: '198.51.100.5', targetPort: 0 })).toThrow(
      /targetPort: .*got 0/,
    );
    expect(() => validateRemoteForwardSpec({ targetHost: 'a b', targetPort: 1 })).toThrow(
      /targetHost: .*"a b"/,
    );
    expect(() =>
      validateLocalForwardSpec({
        targetHost: 'h',
        targetPort: 1,
        probe: { kind: 'http', path: '/x\r\nHost: y' },
      }),
    ).toThrow(/probe.path/);
  });
});

describe('hostKeyMatches', () => {
  it('matches the pinned key and nothing else, and prints the presented key for the operator', () => {
    expect(hostKeyMatches(key.line, key.blob)).toBe(true);
    expect(hostKeyMatches(`${key.line} root@vm`, key.blob)).toBe(true);
    const other = makeHostKey();
    expect(hostKeyMatches(key.line, other.blob)).toBe(false);
    expect(formatKeyBlob(other.blob)).toBe(other.line);
  });
});
