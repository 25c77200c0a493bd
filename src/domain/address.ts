import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number, with its family. */
export interface ParsedIp {
  version: 4 | 6;
  value: bigint;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Parses a dotted IPv4 or an IPv6 address (no zone id); undefined when `text` is neither. */
export function parseIp(text: string): ParsedIp | undefined {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((sum, part) => (sum << 8n) + BigInt(part), 0n);
    return { version: 4, value };
  }
  if (isIPv6(text) && !text.includes('%')) return { version: 6, value: ipv6ToBigInt(text) };
  return undefined;
}

function ipv6ToBigInt(text: string): bigint {
  let groups = text;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (v4?.[1]) {
    const n = Number(parseIp(v4[1])?.value ?? 0n);
    groups = `${groups.slice(0, -v4[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = groups.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(missing).fill('0'), ...right];
  return all.reduce((sum, part) => (sum << 16n) + BigInt(parseInt(part, 16)), 0n);
}

/** True for a DNS host name (letters, digits, '-' and dots; no leading '-'). */
export function isHostname(text: string): boolean {
  return HOSTNAME.test(text) && !/^[0-9.]+$/.test(text);
}
