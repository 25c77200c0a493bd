import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { createPortClients, startRedisServer } from './redis-server.ts';
import { startProcess, waitUntil, type ServiceProcess } from './service-process.ts';
import { keepEvidence } from './test-evidence.ts';

/** The name the sentinels monitor the master by. */
export const SENTINEL_MASTER = 'outpost';

/** A master, a replica and three sentinels of Debian's `redis-sentinel`, all on loopback. */
export interface TestSentinelRedis {
  /** OUTPOST_REDIS_SENTINELS: `127.0.0.1:port,...`. */
  sentinels: string;
  /** The port of the master the sentinels name now. */
  masterPort(): Promise<number>;
  /** kill -9 of the current master's redis-server, as losing its machine would; resolves to its port. */
  killMaster(): Promise<number>;
  /** Resolves once the sentinels name a master other than `port` and it answers as master. */
  waitForFailover(port: number, timeoutMs: number): Promise<number>;
  /** A client of one server (data or sentinel), for reading what it holds; closed by stop(). */
  client(port: number): Redis;
  /** A client of whichever server is master, through the sentinels, as Outpost connects; closed by stop(). */
  master(): Redis;
  /** Stops every process and removes the data. */
  stop(): Promise<void>;
}

/**
 * Starts the master (AOF on; writes refused unless a replica is connected and less than 10 s behind), a
 * replica of it (AOF on), and three sentinels with quorum 2 that call a master down after 1 s without answer.
 */
export async function startSentinelRedis(): Promise<TestSentinelRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-sentinel-'));
  const servers = new Map<number, ServiceProcess>();
  const sentinels: { port: number; process: ServiceProcess }[] = [];
  const { client, disconnectAll } = createPortClients();
  const dataServer = async (name: string, extra: string[]): Promise<number> => {
    const { port, server } = await startRedisServer(dir, name, extra);
    servers.set(port, server);
    return port;
  };
  try {
    const master = await dataServer('master', [
      '--min-replicas-to-write',
      '1',
      '--min-replicas-max-lag',
      '10',
    ]);
    const replica = await dataServer('replica', ['--replicaof', '127.0.0.1', String(master)]);
    const replicaClient = client(replica);
    await waitUntil(
      'the replica in sync',
      async () => /master_link_status:up/.test(await replicaClient.info('replication')),
      servers.get(replica)?.child as ServiceProcess['child'],
    );
    for (let i = 1; i <= 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel${i}.conf`);
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'daemonize no',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        ].join('\n') + '\n',
      );
      const sentinel = startProcess('redis-sentinel', [conf], path.join(dir, `sentinel${i}.log`));
      sentinels.push({ port, process: sentinel });
    }
    // Ready when each sentinel knows the replica and the two other sentinels (they vote in a failover).
    for (const [i, { port, process }] of sentinels.entries()) {
      const probe = client(port);
      let known = '';
      await waitUntil(
        `sentinel on port ${port}`,
        async () => {
          const replicas = (await probe.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as unknown[];
          const peers = (await probe.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER)) as unknown[];
          known = `${replicas.length} replica(s), ${peers.length} peer(s)`;
          return replicas.length === 1 && peers.length === 2;
        },
        process.child,
        60_000,
      ).catch(async (error: Error) => {
        const log = await readFile(path.join(dir, `sentinel${i + 1}.log`), 'utf8').catch(() => '');
        throw new Error(`${error.message}: knows ${known}; its log ends:\n${log.slice(-2000)}`);
      });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const sentinel = client(sentinels[0]?.port ?? 0);
  const masterPort = async (): Promise<number> => {
    const addr = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)) as string[];
    return Number(addr[1]);
  };

  async function stopAll(): Promise<void> {
    disconnectAll();
    await Promise.all(sentinels.map(({ process }) => process.stop()));
    await Promise.all([...servers.values()].map((server) => server.stop()));
    await keepEvidence(dir, 'redis-sentinel'); // the AOFs, for the secrets scan after the suite
    await rm(dir, { recursive: true, force: true });
  }

  const followers: Redis[] = [];
  return {
    sentinels: sentinels.map(({ port }) => `127.0.0.1:${port}`).join(','),
    masterPort,
    client,
    master() {
      const redis = new Redis({
        sentinels: sentinels.map(({ port }) => ({ host: '127.0.0.1', port })),
        name: SENTINEL_MASTER,
        maxRetriesPerRequest: null,
      });
      redis.on('error', () => {});
      followers.push(redis);
      return redis;
    },
    async killMaster() {
      const port = await masterPort();
      const server = servers.get(port);
      if (!server) throw new Error(`no redis-server of this test on port ${port}`);
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGKILL');
      await exited;
      return port;
    },
    async waitForFailover(port, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await masterPort().catch(() => port);
        if (now !== port) {
          const role = (await client(now)
            .call('ROLE')
            .catch(() => [])) as unknown[];
          if (role[0] === 'master') return now;
        }
        if (Date.now() > deadline) throw new Error(`no failover from port ${port} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      for (const redis of followers) redis.disconnect();
      await stopAll();
    },
  };
}

/** A job's log entries as stored in Redis: sequence -> `type data` (to compare before and after a fault). */
export async function readStoredLog(
  redis: Redis,
  jobId: string,
  prefix = 'outpost:',
): Promise<Map<number, string>> {
  const raw = (await redis.xrange(`${prefix}log:${jobId}`, '-', '+')) as [string, string[]][];
  return new Map(
    raw.map(([entryId, fields]) => [Number(entryId.split('-')[0]), `${fields[1] ?? ''} ${fields[5] ?? ''}`]),
  );
}
