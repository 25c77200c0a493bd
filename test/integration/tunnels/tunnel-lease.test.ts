import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLease, releaseLease, renewLease } from '../../../src/lease.ts';
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
});
