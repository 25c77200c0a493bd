import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.ts';
import { hostInputSchema, hostPatchSchema } from '../../../src/domain/host.ts';
import { parseInput } from '../../../src/domain/parse-input.ts';
import { proxyInputSchema } from '../../../src/domain/proxy.ts';
import { decidePin } from '../../../src/domain/decide-pin.ts';
import { parseSshKeyLine } from '../../../src/domain/ssh-key-line.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDFZLf2ESsXUCAdO2LfCt4MjqgEHqJnW775BrT4CH96B';
const OTHER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0pY2l0bmVyIGtleSBub3QgYSByZWFsIG9uZSBoZXJlIQ';

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('host and proxy input', () => {
  const host = { id: 'vm1', project: 'acme', address: '198.51.100.5' };

  it('fills defaults', () => {
    expect(parseInput(hostInputSchema, host)).toEqual({ ...host, sshPort: 22 });
  });

  it.each([
    ['id', { id: 'vm1; rm -rf /' }, '"vm1; rm -rf /"'],
    ['id', { id: 'VM1' }, '"VM1"'],
    ['address', { address: '-oProxyCommand=touch /tmp/x' }, '"-oProxyCommand=touch /tmp/x"'],
    ['address', { address: '198.51.100.5\nHost *' }, '"198.51.100.5\\nHost *"'],
    ['sshPort', { sshPort: 70000 }, '70000'],
    ['sshPort', { sshPort: '22' }, '"22"'],
    ['network', { network: 'a: b' }, '"a: b"'],
    ['hostKey', { hostKey: `${KEY}\nevil` }, 'got "ssh-ed25519 AAAA'],
    ['reach', { reach: 'teleport' }, '"teleport"'],
  ])('refuses a bad %s, naming it and quoting the value', (field, patch, shown) => {
    const error = refusal(() => parseInput(hostInputSchema, { ...host, ...patch }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(shown);
  });

  it.each(['/usr/bin/python3; touch /tmp/x', 'python3', '/usr/bin/python 3', '/usr/bin/$(id)'])(
    'refuses a recorded interpreter %j that is not a plain absolute path',
    (interpreter) => {
      const error = refusal(() => parseInput(hostPatchSchema, { facts: { interpreter } }));
      expect(error.field).toBe('facts.interpreter');
      expect(error.message).toContain(JSON.stringify(interpreter));
    },
  );

  it('refuses unknown fields by name', () => {
    expect(refusal(() => parseInput(hostInputSchema, { ...host, sudo: true })).field).toBe('sudo');
  });

  it('says which field is missing', () => {
    expect(refusal(() => parseInput(hostInputSchema, { id: 'vm1', project: 'acme' })).message).toBe(
      'address: is required',
    );
  });

  it('validates every network of a proxy', () => {
    const proxy = { id: 'p1', project: 'acme', publicAddress: '203.0.113.10', vpcAddress: '198.51.100.1' };
    const error = refusal(() =>
      parseInput(proxyInputSchema, { ...proxy, networks: ['198.51.100.0/26', '198.51.100.7/24'] }),
    );
    expect(error.field).toBe('networks.1');
    expect(error.message).toContain('"198.51.100.7/24"');
    expect(parseInput(proxyInputSchema, { ...proxy, networks: ['198.51.100.0/26'] }).user).toBe('cloudroot');
  });
});

describe('host keys', () => {
  it('accepts a real key line and normalises away the comment', () => {
    expect(
      parseInput(hostInputSchema, { id: 'a', project: 'b', address: '192.0.2.1', hostKey: `${KEY} root@vm` })
        .hostKey,
    ).toBe(KEY);
  });

  it('refuses a blob that does not encode the named type', () => {
    expect(parseSshKeyLine(KEY.replace('ssh-ed25519', 'ssh-rsa'))).toBeUndefined();
  });

  it('pins at first contact, accepts the same key, refuses another with the rekey command', () => {
    expect(decidePin('host', 'vm1', undefined, KEY)).toBe('record');
    expect(decidePin('host', 'vm1', KEY, `${KEY} comment`)).toBe('unchanged');
    expect(() => decidePin('host', 'vm1', KEY, OTHER)).toThrow(/host "vm1".*changed.*outpost host rekey vm1/);
  });
});
