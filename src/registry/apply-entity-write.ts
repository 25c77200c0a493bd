import type { RedisClient } from '../redis-client.ts';
import type { EntityKind } from './read-entity.ts';
import { listIndexes, type RegistryKeys } from './registry-keys.ts';

// One atomic step: the condition, the value, its index changes, further writes, and the change counters.
// A script rather than MULTI/EXEC: MULTI cannot skip its writes when the condition fails without WATCH,
// and WATCH is per connection, which concurrent callers share. Every key is passed in KEYS (Cluster-safe).
// KEYS: 1 the entity, 2 the registry version, 3 the project versions, 4.. one per op.
// ARGV: 1 'absent' | 'equals', 2 the expected text, 3 the new text ('' deletes), 4 the project ('' none),
// 5 '1' when the project itself goes, then an (op, argument) pair per KEYS[3 + j].
const WRITE_ENTITY = `local current = redis.call('GET', KEYS[1])
if ARGV[1] == 'absent' then
  if current then return 0 end
elseif current ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3]) end
for j = 1, #KEYS - 3 do
  local op, arg = ARGV[4 + 2 * j], ARGV[5 + 2 * j]
  if op == 'sadd' then redis.call('SADD', KEYS[3 + j], arg)
  elseif op == 'srem' then redis.call('SREM', KEYS[3 + j], arg)
  elseif op == 'set' then redis.call('SET', KEYS[3 + j], arg)
  else redis.call('DEL', KEYS[3 + j]) end
end
local version = redis.call('INCR', KEYS[2])
if ARGV[4] ~= '' then
  if ARGV[5] == '1' then redis.call('HDEL', KEYS[3], ARGV[4]) else redis.call('HSET', KEYS[3], ARGV[4], version) end
end
return 1`;

/** One conditional write of an entity with everything that must change with it. */
export interface EntityWrite {
  kind: EntityKind;
  id: string;
  /** The stored text it replaces; `null`: only when nothing is stored under the id (a create). */
  expected: string | null;
  /** The stored fields it replaces (unvalidated): the indexes it leaves. */
  before?: object;
  /** The new value; absent deletes the entity. */
  next?: object;
  /** Further keys written in the same step (a promoted key), `null` deleting one. */
  also?: readonly (readonly [key: string, value: string | null])[];
}

/**
 * Writes an entity, its indexes and the change counters (the registry's and its project's) in one
 * atomic step, only when the stored value is still `expected`. Resolves false when it was not.
 */
export async function applyEntityWrite(
  redis: RedisClient,
  keys: RegistryKeys,
  write: EntityWrite,
): Promise<boolean> {
  const leaving = write.before ? listIndexes(keys, write.kind, write.before) : [];
  const entering = write.next ? listIndexes(keys, write.kind, write.next) : [];
  const ops: [key: string, op: string, arg: string][] = [
    ...leaving
      .filter((set) => !entering.includes(set))
      .map((set): [string, string, string] => [set, 'srem', write.id]),
    ...entering.map((set): [string, string, string] => [set, 'sadd', write.id]),
    ...(write.also ?? []).map(([key, value]): [string, string, string] =>
      value === null ? [key, 'del', ''] : [key, 'set', value],
    ),
  ];
  const owner = write.kind === 'project' ? write.id : projectOf(write.next ?? write.before);
  const done = await redis.eval(
    WRITE_ENTITY,
    3 + ops.length,
    keys.entity(write.kind, write.id),
    keys.version,
    keys.projectVersions,
    ...ops.map(([key]) => key),
    write.expected === null ? 'absent' : 'equals',
    write.expected ?? '',
    write.next ? JSON.stringify(write.next) : '',
    owner ?? '',
    write.kind === 'project' && !write.next ? '1' : '0',
    ...ops.flatMap(([, op, arg]) => [op, arg]),
  );
  return done === 1;
}

function projectOf(entity: object | undefined): string | undefined {
  const project = (entity as { project?: unknown } | undefined)?.project;
  return typeof project === 'string' ? project : undefined;
}
