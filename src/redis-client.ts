import { Cluster, type Redis, type RedisOptions } from 'ioredis';

/** A connection to Outpost's Redis: one server (direct or through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * A new connection to the same Redis as `client`, with `overrides` applied to its connections: a cluster
 * takes them as the options of each node's connection (and `lazyConnect` for itself), so a duplicate of
 * a cluster still follows MOVED/ASK redirects where `Redis.duplicate` would not.
 */
export function duplicateClient(client: RedisClient, overrides: Partial<RedisOptions> = {}): RedisClient {
  if (!(client instanceof Cluster)) return client.duplicate(overrides);
  const { lazyConnect, ...nodeOptions } = overrides;
  return client.duplicate([], {
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    redisOptions: { ...client.options.redisOptions, ...nodeOptions },
  });
}
