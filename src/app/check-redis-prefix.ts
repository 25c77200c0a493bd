import type { RedisClient } from '../redis-client.ts';
import { ConfigError, quote } from '../errors.ts';

/**
 * Refuses a key prefix without a hash tag on a Redis in cluster mode: Outpost's transactions and scripts
 * (and BullMQ's) touch several keys at once, which a cluster allows only within one hash slot.
 */
export async function checkRedisPrefix(redis: RedisClient, prefix: string): Promise<void> {
  if (!/^cluster_enabled:1\b/m.test(await redis.info('cluster'))) return;
  if (!/^\{[^}]+\}/.test(prefix))
    throw new ConfigError(
      'OUTPOST_REDIS_PREFIX',
      `Redis runs in cluster mode: the prefix must start with a hash tag, e.g. "{outpost}:", so every key shares one slot; got ${quote(prefix)}`,
    );
}
