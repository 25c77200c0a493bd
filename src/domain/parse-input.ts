import type { z } from 'zod';
import { ValidationError, quote } from '../errors.ts';

/**
 * Validates `input` against `schema`; on failure throws a ValidationError naming the first bad
 * field (dotted path under `root`) and quoting the value it refused.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = ''): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ValidationError(root || 'input', 'invalid');
  const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return fail(path ? `${path}.${key}` : key, 'unknown field');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return fail(path || 'input', 'is required');
  return fail(path || 'input', `${issue.message}, got ${quote(issue.input)}`);
}

function fail(field: string, message: string): never {
  throw new ValidationError(field, message);
}
