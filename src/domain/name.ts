import { z } from 'zod';

/** Every entity id: a lowercase letter, then up to 62 of a-z, 0-9 or '-'. Safe in ssh options, shells and YAML. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** True when `value` is a valid entity name. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** Zod schema for an entity name. */
export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, 'expected a name: a lowercase letter, then up to 62 of a-z, 0-9 or "-"');
