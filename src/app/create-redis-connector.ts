import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { RedisClient } from '../redis-client.ts';
import { sentinelOptions } from './sentinel-options.ts';

/**
 * The one place Outpost opens Redis connections: a Cluster client (which follows MOVED/ASK redirects) when
 * OUTPOST_REDIS_CLUSTER_NODES is set, else one server through Sentinel, a URL, or the embedded server's
 * socket. Commands wait (maxRetriesPerRequest null) for Redis to come back rather than fail a job.
 */
export function createRedisConnector(
  config: Pick<Config, 'redisUrl' | 'redisSentinel' | 'redisCluster'>,
  socketPath: string | undefined,
  logger: Logger,
): () => RedisClient {
  return () => {
    const connection = config.redisCluster
      ? new Cluster(config.redisCluster.nodes, { redisOptions: { maxRetriesPerRequest: null } })
      : config.redisSentinel
        ? new Redis(sentinelOptions(config.redisSentinel))
        : config.redisUrl
          ? new Redis(config.redisUrl, { maxRetriesPerRequest: null })
          : new Redis({ path: socketPath, maxRetriesPerRequest: null });
    connection.on('error', (error) => logger.error({ err: error }, 'redis connection error'));
    return connection;
  };
}
