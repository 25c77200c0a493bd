import type { RedisOptions } from 'ioredis';
import type { RedisSentinel } from '../config.ts';

/**
 * Connection options through Sentinel: when its connection drops (the master died, or Redis closed every
 * client at a failover) ioredis asks the sentinels for the master again; a write a demoted master refused
 * is re-sent after reconnecting. Commands wait (maxRetriesPerRequest null) until the new master answers,
 * rather than fail the job.
 */
export function sentinelOptions(sentinel: RedisSentinel): RedisOptions {
  return {
    sentinels: sentinel.sentinels,
    name: sentinel.master,
    // Not ioredis' failoverDetector: a +switch-master that lands while a connection is reconnecting ends
    // that connection for good ("Connection is closed"), seen in the failover drill.
    maxRetriesPerRequest: null,
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}
