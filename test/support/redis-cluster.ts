import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { createPortClients, startRedisServer } from './redis-server.ts';
import type { ServiceProcess } from './service-process.ts';
import { keepEvidence } from './test-evidence.ts';

/** A Redis Cluster of Debian's `redis-server`: three masters, each with one replica, all on loopback. */
export interface TestRedisCluster {
  /** OUTPOST_REDIS_CLUSTER_NODES: `127.0.0.1:port,...` of every node. */
  nodes: string;
  /** The masters' ports. */
  masters: number[];
  /** A plain (non-cluster) client of one node, to ask it what it holds; closed by stop(). */
  client(port: number): Redis;
  /** Stops every node and removes the data. */
  stop(): Promise<void>;
}

/** Starts six nodes in cluster mode and joins them with `redis-cli --cluster create --cluster-replicas 1`. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-cluster-'));
  const servers: { port: number; server: ServiceProcess }[] = [];
  const { client, disconnectAll } = createPortClients();
  const stopAll = async (): Promise<void> => {
    disconnectAll();
    await Promise.all(servers.map(({ server }) => server.stop()));
    await keepEvidence(dir, 'redis-cluster'); // the AOFs, for the secrets scan after the suite
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= 6; i++) {
      // Each node's cluster state file in its own data directory (--cluster-config-file is relative to --dir).
      servers.push(
        await startRedisServer(dir, `node${i}`, [
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          '5000',
        ]),
      );
    }
    const addresses = servers.map(({ port }) => `127.0.0.1:${port}`);
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 60_000 },
    );
    // Ready when every node sees all 16384 slots served and the state ok.
    for (const { port } of servers) {
      for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 200))) {
        const info = await client(port).cluster('INFO');
        if (/cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info)) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${port} not ok in 60 s:\n${info}`);
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const masters: number[] = [];
  for (const { port } of servers) {
    const role = (await client(port).call('ROLE')) as unknown[];
    if (role[0] === 'master') masters.push(port);
  }
  return {
    nodes: servers.map(({ port }) => `127.0.0.1:${port}`).join(','),
    masters,
    client,
    stop: stopAll,
  };
}
