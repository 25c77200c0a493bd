import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { checkRedisPrefix } from './check-redis-prefix.ts';
import { createRedisConnector } from './create-redis-connector.ts';
import { startEmbeddedRedis } from '../embedded/start-embedded-redis.ts';
import { EventStore } from '../events/event-store.ts';
import { listRegistryEvents } from '../events/registry-events.ts';
import { writeInventory } from '../inventory/write-inventory.ts';
import { createRegistryInventory } from '../jobs/runtime/create-registry-inventory.ts';
import type { PrepareInventory } from '../jobs/runtime/job-deps.ts';
import { LogStore } from '../logs/log-store.ts';
import { JobQueue } from '../queue/job-queue.ts';
import { JobStore } from '../queue/job-store.ts';
import { createSealer, type Sealer } from '../queue/sealer.ts';
import { Registry } from '../registry/registry.ts';
import { KeyStore } from '../secrets/key-store.ts';
import { loadMasterKey } from '../secrets/load-master-key.ts';
import { TokenStore } from '../secrets/token-store.ts';
import type { RedisClient } from '../redis-client.ts';
import type { ShutdownStack } from './shutdown-stack.ts';

/** What every role shares: one Redis (embedded, one server, or a cluster), the stores on it, the master key's sealer. */
export interface Core {
  redis: RedisClient;
  /** A new connection to the same Redis (BullMQ's worker needs its own); closed by the caller. */
  connect(): RedisClient;
  logs: LogStore;
  store: JobStore;
  queue: JobQueue;
  registry: Registry;
  /** The event stream of GET /v1/events, fed by every registry write. */
  events: EventStore;
  /** The audit trail (GET /v1/audit): state-changing and refused requests, jobs' ends. */
  audit: EventStore;
  /** Scoped API tokens, stored as hashes. */
  tokens: TokenStore;
  keys: KeyStore;
  sealer: Sealer;
  prepareInventory: PrepareInventory;
}

/** Opens the core; each piece's stop goes onto `stack` as soon as it started. */
export async function openCore(config: Config, logger: Logger, stack: ShutdownStack): Promise<Core> {
  let socketPath: string | undefined;
  if (!config.redisUrl && !config.redisSentinel && !config.redisCluster) {
    const embedded = await startEmbeddedRedis(config.varDir);
    stack.push('embedded redis-server', () => embedded.stop());
    logger.info(
      { socket: embedded.socketPath, origin: embedded.origin, pid: embedded.pid },
      'embedded redis-server',
    );
    socketPath = embedded.socketPath;
  }
  const connect = createRedisConnector(config, socketPath, logger);
  const redis = connect();
  stack.push('redis connection', () => redis.quit().catch(() => redis.disconnect()));
  const prefix = config.redisPrefix;
  await checkRedisPrefix(redis, prefix);
  const masterKey = await loadMasterKey(config);
  const logs = new LogStore(redis, {
    prefix,
    maxEntries: config.logMaxEntries,
    retentionSeconds: config.logRetentionSeconds,
  });
  const sealer = createSealer(masterKey);
  const keys = new KeyStore(redis, masterKey, prefix);
  const events = new EventStore(redis, { prefix });
  const audit = new EventStore(redis, {
    prefix,
    name: 'audit',
    maxEvents: config.auditMaxEntries,
    maxAgeMs: config.auditRetentionSeconds * 1000,
  });
  const registry = new Registry(redis, prefix, {
    keys,
    // A lost event must not fail the write it reports: readers reload what they show on reconnect.
    onWrite: (write) =>
      events
        .publish(listRegistryEvents(write))
        .then(() => undefined)
        .catch((error: unknown) => logger.warn({ err: error }, 'event not published')),
  });
  // A registry written before indexes existed gets them now (one GET when it already has them).
  const indexed = await registry.ensureIndexes();
  if (indexed > 0) logger.info({ entities: indexed }, 'registry indexes built');
  const store = new JobStore(redis, prefix);
  const queue = new JobQueue(redis, store, logs, { prefix, sealer });
  stack.push('job queue', () => queue.close());
  return {
    redis,
    connect,
    logs,
    store,
    queue,
    registry,
    events,
    audit,
    tokens: new TokenStore(redis, prefix),
    keys,
    sealer,
    prepareInventory: createRegistryInventory({ registry, keys, writeInventory }),
  };
}
