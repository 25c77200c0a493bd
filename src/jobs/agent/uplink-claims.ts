import type { Redis } from 'ioredis';

const key = (prefix: string, proxyId: string): string => `${prefix}uplink-claim:${proxyId}`;

/**
 * Asks the tunnel nodes for `proxyId`'s uplink while a deploy decides and verifies (before any host
 * records uplink `proxy`). A claim expires after `ttlMs`, so a crashed job cannot hold a forward forever.
 */
export async function claimUplink(
  redis: Redis,
  prefix: string,
  proxyId: string,
  jobId: string,
  ttlMs: number,
): Promise<void> {
  await redis.hset(key(prefix, proxyId), jobId, String(Date.now() + ttlMs));
  // Only ever extend the key's life: a shorter claim must not cut a longer one short.
  if ((await redis.pttl(key(prefix, proxyId))) < ttlMs) await redis.pexpire(key(prefix, proxyId), ttlMs);
}

/** Drops the claims of `jobId`. */
export async function releaseUplinkClaims(
  redis: Redis,
  prefix: string,
  proxyIds: string[],
  jobId: string,
): Promise<void> {
  await Promise.all(proxyIds.map((proxyId) => redis.hdel(key(prefix, proxyId), jobId)));
}

/** Whether any unexpired claim on `proxyId`'s uplink exists. */
export async function isUplinkClaimed(redis: Redis, prefix: string, proxyId: string): Promise<boolean> {
  const claims = await redis.hgetall(key(prefix, proxyId));
  const now = Date.now();
  return Object.values(claims).some((until) => Number(until) > now);
}
