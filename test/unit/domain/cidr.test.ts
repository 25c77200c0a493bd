import { describe, expect, it } from 'vitest';
import { cidrContains, parseCidr } from '../../../src/domain/cidr.ts';
import { parseIp, isHostname } from '../../../src/domain/address.ts';

describe('parseCidr / cidrContains', () => {
  it('matches IPv4 addresses inside a network and not outside', () => {
    expect(cidrContains('198.51.100.0/26', '198.51.100.5')).toBe(true);
    expect(cidrContains('198.51.100.0/26', '198.51.100.63')).toBe(true);
    expect(cidrContains('198.51.100.0/26', '198.51.100.64')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '203.0.113.9')).toBe(true);
  });

  it('matches IPv6 and never mixes families', () => {
    expect(cidrContains('2001:db8::/32', '2001:db8:1::5')).toBe(true);
    expect(cidrContains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(cidrContains('198.51.100.0/24', '2001:db8::1')).toBe(false);
    expect(parseIp('::ffff:192.0.2.1')?.value).toBe(0xffffc0000201n);
  });

  it('refuses host bits, bad prefixes and garbage', () => {
    expect(parseCidr('198.51.100.5/26')).toBeUndefined();
    expect(parseCidr('198.51.100.0/33')).toBeUndefined();
    expect(parseCidr('198.51.100.0')).toBeUndefined();
    expect(parseCidr('x/8')).toBeUndefined();
    expect(parseCidr('198.51.100.0/26')).toEqual({ version: 4, base: 0xc6336400n, prefix: 26 });
  });

  it('tells host names from addresses', () => {
    expect(isHostname('vm1.example.test')).toBe(true);
    expect(isHostname('-oProxyCommand=x')).toBe(false);
    expect(isHostname('a b')).toBe(false);
    expect(isHostname('1.2.3.4')).toBe(false);
  });
});
