import type { RedisClient } from '../../redis-client.ts';

/**
 * The silent alerts the watch has sent and not yet resolved, per project: so a host brought back by
 * anyone (the watch seeing points again, or a deploy that set it `reporting` first) is resolved once.
 */
export interface OpenAlerts {
  /** Open alerts of `project`: host -> when it went silent. */
  list(project: string): Promise<Map<string, string>>;
  open(project: string, host: string, since: string): Promise<void>;
  close(project: string, hosts: string[]): Promise<void>;
}

/** {@link OpenAlerts} in one Redis hash per project, shared by every node's watch. */
export function createOpenAlerts(redis: RedisClient, keyPrefix: string): OpenAlerts {
  const key = (project: string): string => `${keyPrefix}watch:silent:${project}`;
  return {
    async list(project) {
      return new Map(Object.entries(await redis.hgetall(key(project))));
    },
    async open(project, host, since) {
      await redis.hset(key(project), host, since);
    },
    async close(project, hosts) {
      if (hosts.length > 0) await redis.hdel(key(project), ...hosts);
    },
  };
}
