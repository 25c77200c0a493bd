import type { RedisClient } from '../redis-client.ts';
import { registryKeys } from './registry-keys.ts';

const BUMP = `local version = redis.call('INCR', KEYS[1]) redis.call('HSET', KEYS[2], ARGV[1], version) return version`;

/**
 * Bumps the registry's and `project`'s change counters for a change kept outside the registry that
 * tunnel nodes must notice (an uplink claim): they read the project again at their next tick.
 */
export async function markProjectChanged(redis: RedisClient, prefix: string, project: string): Promise<void> {
  const keys = registryKeys(prefix);
  await redis.eval(BUMP, 2, keys.version, keys.projectVersions, project);
}
