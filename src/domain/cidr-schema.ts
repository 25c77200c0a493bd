import { z } from 'zod';
import { parseCidr } from './cidr.ts';

// Apart from cidr.ts so the CLI can match networks without loading zod (its start-up time).

/** Zod schema for a network in CIDR notation with no host bits set. */
export const cidrSchema = z
  .string()
  .refine(
    (text) => parseCidr(text) !== undefined,
    'expected a network in CIDR notation with no host bits set, e.g. 198.51.100.0/26',
  );
