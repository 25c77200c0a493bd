import { z } from 'zod';
import { networkSchema } from '../domain/host.ts';

/**
 * An ansible tag: it reaches the command line as the value of `--tags` / `--skip-tags`, so like
 * `limit` it may not start with `-` (it would read as an option).
 */
export const tagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, 'not a tag name')
  .refine((tag) => !tag.startsWith('-'), 'must not start with -');

/** `selector.network`: validated as a host's network is (a CIDR with no host bits set, or a network name). */
export const selectorNetworkSchema = networkSchema;

/** `credentials.passphrase`: unlocks an encrypted `credentials.privateKey`; never echoed. */
export const passphraseSchema = z.string().min(1).max(1024);
