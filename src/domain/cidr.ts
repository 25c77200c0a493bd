import { parseIp } from './address.ts';

/** A parsed network: family, first address and prefix length. */
export interface Cidr {
  version: 4 | 6;
  base: bigint;
  prefix: number;
}

/** Parses `a.b.c.d/n` or `v6/n`; undefined when malformed or when host bits are set. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const ip = parseIp(match[1]);
  const prefix = Number(match[2]);
  if (!ip || prefix > (ip.version === 4 ? 32 : 128)) return undefined;
  if ((ip.value & ~maskOf(ip.version, prefix)) !== 0n) return undefined;
  return { version: ip.version, base: ip.value, prefix };
}

function maskOf(version: 4 | 6, prefix: number): bigint {
  const bits = version === 4 ? 32 : 128;
  const all = (1n << BigInt(bits)) - 1n;
  return (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

/** True when `address` (an IP address) lies inside `cidr`; false for host names and other families. */
export function cidrContains(cidr: string | Cidr, address: string): boolean {
  const net = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const ip = parseIp(address);
  if (!net || !ip || ip.version !== net.version) return false;
  return (ip.value & maskOf(net.version, net.prefix)) === net.base;
}

/** True when `text` looks like a CIDR (has a '/'), valid or not: tells a CIDR from a network label. */
export function looksLikeCidr(text: string): boolean {
  return text.includes('/');
}
