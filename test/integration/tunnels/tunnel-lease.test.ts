import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLease, keepLease, releaseLease, renewLease } from '../../../src/lease.ts';
import { runTunnelNode } from '../../../src/tunnels/run-tunnel-node.ts';
import { tunnelKeys } from '../../../src/tunnels/tunnel-lease.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('tunnel leases on a real Redis', () => {
  const key = tunnelKeys('lease-test:').lease('vpc1-proxy');

  it('lets exactly one node hold a proxy, and only the holder renew or release it', async () => {
    expect(key).toBe('lease-test:tunnels:lease:vpc1-proxy');
    const results = await Promise.all(['a', 'b', 'c'].map((node) => acquireLease(redis, key, node, 5000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const holder = await redis.get(key);
    const other = ['a', 'b', 'c'].find((n) => n !== holder) as string;
    expect(await renewLease(redis, key, other, 5000)).toBe(false);
    expect(await releaseLease(redis, key, other)).toBe(false);
    expect(await redis.get(key)).toBe(holder);
    // The holder acquiring again is a renewal, not a conflict.
    expect(await acquireLease(redis, key, holder as string, 5000)).toBe(true);
    expect(await releaseLease(redis, key, holder as string)).toBe(true);
    expect(await acquireLease(redis, key, other, 5000)).toBe(true);
    await releaseLease(redis, key, other);
  });

  it('passes to another node once the holder stops renewing for the lease time', async () => {
    expect(await acquireLease(redis, key, 'dead', 300)).toBe(true);
    expect(await acquireLease(redis, key, 'alive', 300)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await renewLease(redis, key, 'dead', 300)).toBe(false);
    expect(await acquireLease(redis, key, 'alive', 300)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    await releaseLease(redis, key, 'alive');
  });

  it('keeps a lease that is ours, takes it again when it ran out unclaimed, and names the holder otherwise', async () => {
    const kept = tunnelKeys('lease-test:').lease('vpc2-proxy');
    expect(await acquireLease(redis, kept, 'a', 5000)).toBe(true);
    expect(await keepLease(redis, kept, 'a', 5000)).toEqual({ kept: 'renewed' });
    await redis.del(kept); // as if it ran out
    expect(await keepLease(redis, kept, 'a', 5000)).toEqual({ kept: 'retaken' });
    expect(await redis.get(kept)).toBe('a');
    expect(await redis.pttl(kept)).toBeGreaterThan(4000);
    await redis.set(kept, 'b', 'PX', 5000);
    expect(await keepLease(redis, kept, 'a', 5000)).toEqual({ kept: false, holder: 'b' });
    expect(await redis.get(kept)).toBe('b');
    await redis.del(kept);
  });
});

describe('a tunnel node whose pass is slow', () => {
  it('keeps its lease through a registry read slower than the lease time, and drops it only to another node', async () => {
    const ttl = 900;
    const prefix = 'slow-pass:';
    const lease = tunnelKeys(prefix).lease('vpc3-proxy');
    const lines: string[] = [];
    const log = (message: string) => (fields: object) => lines.push(`${message} ${JSON.stringify(fields)}`);
    const logger = {
      debug: (fields: object, message: string) => log(message)(fields),
      info: (fields: object, message: string) => log(message)(fields),
      warn: (fields: object, message: string) => log(message)(fields),
      error: (fields: object, message: string) => log(message)(fields),
    };
    let stall = false;
    // No forwards wanted: the node only holds the lease, so no SSH is involved.
    const proxy = {
      id: 'vpc3-proxy',
      publicAddress: '127.0.0.1',
      sshPort: 1,
      vpcAddress: '127.0.0.1',
      user: 'cloudroot',
    };
    const node = runTunnelNode({
      redis,
      keyPrefix: prefix,
      nodeId: 'slow',
      privateKey: 'unused: no forward is wanted',
      leaseTtlMs: ttl,
      tickMs: 50,
      logger,
      listWanted: async () => {
        if (stall) await new Promise((resolve) => setTimeout(resolve, 3 * ttl));
        return [{ proxy }];
      },
    });
    try {
      await expect.poll(() => node.held(), { timeout: 2000 }).toEqual(['vpc3-proxy']);
      // Every registry read now takes three lease times; the lease must stay ours all along.
      stall = true;
      const holders = new Set<string | null>();
      const until = Date.now() + 4 * ttl;
      while (Date.now() < until) {
        holders.add(await redis.get(lease));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect([...holders]).toEqual(['slow']);
      expect(node.held()).toEqual(['vpc3-proxy']);
      // Taken by another node: the next renewal gives it up and says to whom.
      await redis.set(lease, 'other-node', 'PX', 10 * ttl);
      await expect.poll(() => node.held(), { timeout: 2 * ttl }).toEqual([]);
      expect(lines.join('\n')).toMatch(/dropping proxy tunnels \{.*"why":"lease lost to node other-node"/);
      expect(lines.join('\n')).not.toContain('unused: no forward');
    } finally {
      stall = false;
      await node.stop();
    }
  });
});
