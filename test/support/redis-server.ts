import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { pingRedis } from './redis.ts';
import { startProcess, waitUntil, type ServiceProcess } from './service-process.ts';

/**
 * One more `redis-server` of a multi-server test setup (Sentinel, Cluster) on a free loopback port, AOF on,
 * its data in `dir/name` and its log in `dir/name.log`; resolves once it answers PING.
 */
export async function startRedisServer(
  dir: string,
  name: string,
  extra: string[] = [],
): Promise<{ port: number; server: ServiceProcess }> {
  const port = await freePort();
  const data = path.join(dir, name);
  await mkdir(data);
  const server = startProcess(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      data,
      '--appendonly',
      'yes',
      '--save',
      '',
    ].concat(['--daemonize', 'no', ...extra]),
    path.join(dir, `${name}.log`),
  );
  try {
    await waitUntil(`redis-server ${name} on port ${port}`, () => pingRedis(port), server.child);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { port, server };
}

/** One admin connection per loopback port, opened on first use; `disconnectAll` closes every one. */
export function createPortClients(): { client: (port: number) => Redis; disconnectAll: () => void } {
  const clients = new Map<number, Redis>();
  return {
    client: (port) => {
      let redis = clients.get(port);
      if (!redis) {
        redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
        redis.on('error', () => {}); // a node killed on purpose: its errors are the drill's point
        clients.set(port, redis);
      }
      return redis;
    },
    disconnectAll: () => {
      for (const redis of clients.values()) redis.disconnect();
    },
  };
}
