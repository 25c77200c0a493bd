import { z } from 'zod';
import { isHostname, parseIp } from './address.ts';

// Apart from address.ts so the CLI can parse addresses without loading zod (its start-up time).

/** Zod schema for an IP address (v4 or v6). */
export const ipSchema = z
  .string()
  .refine((text) => parseIp(text) !== undefined, 'expected an IPv4 or IPv6 address');

/** Zod schema for an address ssh can dial: an IP address or a DNS host name. */
export const addressSchema = z
  .string()
  .refine(
    (text) => parseIp(text) !== undefined || isHostname(text),
    'expected an IPv4 or IPv6 address or a DNS host name',
  );
