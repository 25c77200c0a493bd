/**
 * The serve-time half of the composition root: connections, roles and shutdown. main.ts reads the
 * environment and loads this file only for `outpost serve` and `outpost inventory`, so the client
 * commands start without loading the server's modules.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { pino } from 'pino';
import { runPlaybook } from './ansible/run-playbook.ts';
import type { ServeOptions } from './cli/serve-command.ts';
import type { Config } from './config.ts';
import { ensureApiToken } from './embedded/ensure-api-token.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded/start-embedded-redis.ts';
import { createApp } from './http/create-app.ts';
import { ServiceMetrics } from './http/service-metrics.ts';
import { createExecuteJob } from './jobs/runtime/create-execute-job.ts';
import { createRegistryInventory } from './jobs/runtime/create-registry-inventory.ts';
import { rekeyHostKey } from './jobs/login/rekey-host-key.ts';
import { writeInventory } from './inventory/write-inventory.ts';
import { Registry } from './registry/registry.ts';
import { KeyStore } from './secrets/key-store.ts';
import { loadMasterKey } from './secrets/load-master-key.ts';
import { renderEnrollScript } from './secrets/render-enroll-script.ts';
import { seal, unseal } from './secrets/seal.ts';
import { startAgentServices } from './start-agent-services.ts';
import type { Sealer } from './queue/sealer.ts';
import { LogStore } from './logs/log-store.ts';
import { JobQueue } from './queue/job-queue.ts';
import { JobStore } from './queue/job-store.ts';
import { startJobWorker, type JobWorker } from './queue/job-worker.ts';

/** Settings of `serve` beyond Config, read here read by main.ts, the one reader of the environment. */
export interface ServeSettings {
  prefix: string;
  allowLocal: boolean;
  heartbeatMs: number;
  killGraceMs: number;
  logMaxEntries: number;
  logRetentionSeconds: number;
  sseHeartbeatMs: number;
}

/**
 * `outpost serve`: config -> connections -> roles (api, worker, tunnels) -> graceful shutdown on SIGINT or
 * SIGTERM. Resolves once everything is closed.
 */
export async function serve(config: Config, settings: ServeSettings, options: ServeOptions): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { roles: options.roles.join(',') } });
  const closers: (() => Promise<unknown>)[] = [];
  let embedded: EmbeddedRedis | undefined;
  let redisOptions: RedisOptions & { path?: string };
  if (config.redisUrl) {
    redisOptions = {};
  } else {
    embedded = await startEmbeddedRedis(config.varDir);
    logger.info({ socket: embedded.socketPath, started: embedded.started }, 'embedded redis-server');
    redisOptions = { path: embedded.socketPath };
  }
  const connect = (): Redis =>
    config.redisUrl
      ? new Redis(config.redisUrl, { maxRetriesPerRequest: null })
      : new Redis({ ...redisOptions, maxRetriesPerRequest: null });
  const redis = connect();
  redis.on('error', (error) => logger.error({ err: error }, 'redis connection error'));
  const logs = new LogStore(redis, {
    prefix: settings.prefix,
    maxEntries: settings.logMaxEntries,
    retentionSeconds: settings.logRetentionSeconds,
  });
  const masterKey = await loadMasterKey(config);
  const sealer: Sealer = {
    seal: (plaintext) => seal(plaintext, masterKey, 'job-credentials'),
    unseal: (sealed) => unseal(sealed, masterKey, 'job-credentials'),
  };
  const keys = new KeyStore(redis, masterKey, settings.prefix);
  const registry = new Registry(redis, settings.prefix, { keys });
  const prepareInventory = createRegistryInventory({ registry, keys, writeInventory });
  const store = new JobStore(redis, settings.prefix);
  const queue = new JobQueue(redis, store, logs, { prefix: settings.prefix, sealer });
  const agentServices = await startAgentServices({
    config,
    redis,
    keyPrefix: settings.prefix,
    registry,
    keys,
    logger,
    tunnels: options.roles.includes('tunnels'),
  });
  const metrics = new ServiceMetrics({
    jobsByStatus: () => store.countByStatus(),
    queueDepth: () => queue.depth(),
    tunnelsUp: () => agentServices.tunnelsUp(),
  });
  const runsDir = path.join(config.varDir, 'runs');

  let worker: JobWorker | undefined;
  const workerRedis = options.roles.includes('worker') ? connect() : undefined;
  if (workerRedis) {
    workerRedis.on('error', (error) => logger.error({ err: error }, 'redis connection error'));
    worker = await startJobWorker({
      redis: workerRedis,
      store,
      logs,
      logger,
      prefix: settings.prefix,
      concurrency: config.workerConcurrency,
      runsDir,
      sealer,
      heartbeatMs: settings.heartbeatMs,
      execute: createExecuteJob({
        prepareInventory,
        rootDir: config.rootDir,
        runsDir,
        allowLocal: settings.allowLocal,
        runPlaybook,
        killGraceMs: settings.killGraceMs,
        registry,
        keys,
        ...(agentServices.agent ? { agent: agentServices.agent } : {}),
      }),
      onJobEnd: (outcome, seconds) => metrics.observeRun(outcome.status, seconds),
    });
    logger.info({ worker: worker.id, concurrency: config.workerConcurrency }, 'worker started');
  }

  let server: Server | undefined;
  if (options.roles.includes('api')) {
    const { token, created, file } = await ensureApiToken(config.varDir, config.apiToken);
    if (created) process.stderr.write(`outpost: generated an API token (kept in ${file}): ${token}\n`);
    const app = createApp({
      token,
      logger,
      metrics,
      queue,
      store,
      logs,
      heartbeatMs: settings.sseHeartbeatMs,
      registry,
      rekey: (kind, id, rekeyOptions) => rekeyHostKey({ registry, keys }, kind, id, rekeyOptions),
      views: {
        inventoryYaml: async (project) => {
          const dir = path.join(config.rootDir, 'inventories', project);
          const written = await prepareInventory(dir, {
            id: 'inventory',
            kind: 'probe',
            status: 'queued',
            createdAt: '',
            project,
          });
          return readFile(written.inventory, 'utf8');
        },
        ...(agentServices.lastSeen ? { lastSeen: agentServices.lastSeen } : {}),
        enrollScript: async (project) => {
          const found = await registry.getProject(project);
          return renderEnrollScript({
            project,
            adminKey: found.publicKeys.admin,
            projectKey: found.publicKeys.project,
          });
        },
      },
      healthy: async () => (await redis.ping()) === 'PONG',
    });
    server = createServer(app);
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject);
      server?.listen(config.httpPort, config.httpHost, resolve);
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.httpPort;
    logger.info({ url: `http://${config.httpHost}:${port}` }, 'api listening');
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (server) {
    const closed = new Promise((resolve) => server?.close(resolve));
    // Streaming clients would hold the server open forever: end them after a moment.
    setTimeout(() => server?.closeAllConnections(), 2000).unref();
    closers.push(() => closed);
  }
  if (worker) closers.push(() => worker.close());
  closers.push(() => queue.close());
  await Promise.allSettled(closers.map((close) => close()));
  await agentServices.stop();
  await workerRedis?.quit().catch(() => undefined);
  await redis.quit().catch(() => undefined);
  await embedded?.stop();
  logger.info('stopped');
  // Anything still holding the event loop now is a leak; do not let it keep a stopped service alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
}

/**
 * The live registry and key store for `outpost inventory`, straight on Redis (the configured one, or
 * the embedded one under var/, started if needed and stopped again by `close`).
 */
export async function openRegistry(
  config: Config,
  settings: ServeSettings,
): Promise<{ registry: Registry; keys: KeyStore; close(): Promise<void> }> {
  const embedded = config.redisUrl ? undefined : await startEmbeddedRedis(config.varDir);
  const redis = embedded
    ? new Redis({ path: embedded.socketPath, maxRetriesPerRequest: 2 })
    : new Redis(config.redisUrl ?? '', { maxRetriesPerRequest: 2 });
  const keys = new KeyStore(redis, await loadMasterKey(config), settings.prefix);
  return {
    registry: new Registry(redis, settings.prefix, { keys }),
    keys,
    close: async () => {
      await redis.quit().catch(() => undefined);
      await embedded?.stop();
    },
  };
}
