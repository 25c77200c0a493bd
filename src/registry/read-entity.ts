import { z } from 'zod';
import { hostInputSchema, hostPatchSchema, hostProbeSchema } from '../domain/host.ts';
import { parseInput } from '../domain/parse-input.ts';
import { projectInputSchema } from '../domain/project.ts';
import { proxyInputSchema, selfTestSchema } from '../domain/proxy.ts';
import { publicKeySchema } from '../domain/ssh-key-line.ts';
import { CorruptEntityError, ValidationError } from '../errors.ts';

/** The kinds of entity the registry stores. */
export type EntityKind = 'project' | 'proxy' | 'host';

// What a stored entity is: what a create accepted, plus what later validated patches added.
const STORED: Record<EntityKind, z.ZodType> = {
  project: projectInputSchema.extend({
    createdAt: z.iso.datetime(),
    publicKeys: z.strictObject({ admin: publicKeySchema, project: publicKeySchema }),
  }),
  proxy: proxyInputSchema.extend({ selfTest: selfTestSchema.optional() }),
  host: hostInputSchema.extend({
    login: hostPatchSchema.shape.login.unwrap(),
    agent: hostPatchSchema.shape.agent.unwrap(),
    facts: hostPatchSchema.shape.facts,
    probe: hostProbeSchema.optional(),
  }),
};

/**
 * Parses and validates an entity as stored in Redis with the schemas its writes passed, so a value
 * changed behind the registry's back (a hostile address, user or interpreter path) never reaches an
 * ssh_config or an inventory. Throws CorruptEntityError naming the entity and the field.
 */
export function readEntity<T>(kind: EntityKind, id: string, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new CorruptEntityError(kind, id, 'not JSON', { cause });
  }
  try {
    const entity = parseInput(STORED[kind], value) as { id?: unknown };
    if (entity.id !== id)
      throw new ValidationError('id', `expected ${JSON.stringify(id)}, the key it is stored under`);
    return entity as T;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new CorruptEntityError(kind, id, error.message, { cause: error, field: error.field });
  }
}

/** Checks an entity about to be stored with the same schemas (an update must not keep a bad field). */
export function checkEntity(kind: EntityKind, id: string, entity: unknown): void {
  readEntity(kind, id, JSON.stringify(entity));
}
