import type { z } from 'zod';
import { ValidationError, quote } from '../errors.ts';

// Fields whose value is never quoted back: credentials, and any key that names a secret (an extra var too).
const SECRET_FIELD = /credentials|password|passwd|passphrase|secret|token|private_?key/i;

/** Validates `input` with `schema`; the first problem becomes a ValidationError naming the field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, root: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ValidationError(root, 'invalid');
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length > 0 ? `${root}.${issue.path.join('.')}` : root;
    throw new ValidationError(`${at}.${issue.keys[0] ?? ''}`, 'unknown field');
  }
  const field = [root, ...issue.path.map(String)].join('.');
  const value = issue.path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
  // A secret is never quoted back, even when it is malformed.
  const secret = [root, ...issue.path.map(String)].some((key) => SECRET_FIELD.test(key));
  const shown = value === undefined || secret ? '' : `, got ${quote(value)}`;
  throw new ValidationError(field, `${issue.message}${shown}`);
}
