import type { RedisClient } from '../../redis-client.ts';
import { markProjectChanged } from '../../registry/mark-project-changed.ts';

const key = (prefix: string, proxyId: string): string => `${prefix}uplink-claim:${proxyId}`;

/**
 * Asks the tunnel nodes for `proxy`'s uplink while a deploy decides and verifies (before any host
 * records uplink `proxy`). A claim expires after `ttlMs`, so a crashed job cannot hold a forward forever.
 */
export async function claimUplink(
  redis: RedisClient,
  prefix: string,
  proxy: { id: string; project: string },
  jobId: string,
  ttlMs: number,
): Promise<void> {
  await redis.hset(key(prefix, proxy.id), jobId, String(Date.now() + ttlMs));
  // Only ever extend the key's life: a shorter claim must not cut a longer one short.
  if ((await redis.pttl(key(prefix, proxy.id))) < ttlMs) await redis.pexpire(key(prefix, proxy.id), ttlMs);
  await markProjectChanged(redis, prefix, proxy.project);
}

/** Drops the claims of `jobId` on proxies of `project`. */
export async function releaseUplinkClaims(
  redis: RedisClient,
  prefix: string,
  project: string,
  proxyIds: string[],
  jobId: string,
): Promise<void> {
  if (proxyIds.length === 0) return;
  await Promise.all(proxyIds.map((proxyId) => redis.hdel(key(prefix, proxyId), jobId)));
  await markProjectChanged(redis, prefix, project);
}

/** Until when `proxyId`'s uplink is claimed (the latest unexpired claim, epoch ms); undefined: it is not. */
export async function readUplinkClaim(
  redis: RedisClient,
  prefix: string,
  proxyId: string,
): Promise<number | undefined> {
  const claims = await redis.hgetall(key(prefix, proxyId));
  const now = Date.now();
  const until = Math.max(
    0,
    ...Object.values(claims)
      .map(Number)
      .filter((t) => t > now),
  );
  return until > 0 ? until : undefined;
}
