import type { RedisClient } from './redis-client.ts';

// Leases in Redis: a key whose value names its owner and which expires unless the owner renews it, so
// a node that dies releases what it held after the lease time. Compare-and-set: only the owner may
// extend or drop its lease.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
// Keep: extend our own lease, take it again when it ran out and nobody took it since, or name the holder.
const KEEP = `local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return {1} end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return {2} end
return {0, holder}`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Takes the lease when nobody holds it (`SET NX PX`) or extends it when `owner` already does.
 * @returns true when `owner` holds the lease for the next `ttlMs`.
 */
export async function acquireLease(
  redis: RedisClient,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const set = await redis.set(key, owner, 'PX', ttlMs, 'NX');
  if (set === 'OK') return true;
  return renewLease(redis, key, owner, ttlMs);
}

/** Extends the lease only while `owner` holds it. @returns false when it is lost (expired or taken). */
export async function renewLease(
  redis: RedisClient,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  return (await redis.eval(RENEW, 1, key, owner, String(ttlMs))) === 1;
}

/** What {@link keepLease} found: the lease still ours, ours again after it ran out, or held by another owner. */
export type KeptLease = { kept: 'renewed' } | { kept: 'retaken' } | { kept: false; holder: string };

/**
 * Extends `owner`'s lease, and takes it again when it ran out while nobody else took it (a holder whose
 * renewal came late, e.g. on a saturated machine, keeps what no other node wanted). Atomic in Redis.
 */
export async function keepLease(
  redis: RedisClient,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<KeptLease> {
  const [code, holder] = (await redis.eval(KEEP, 1, key, owner, String(ttlMs))) as [number, string?];
  if (code === 1) return { kept: 'renewed' };
  if (code === 2) return { kept: 'retaken' };
  return { kept: false, holder: holder ?? '' };
}

/** Drops the lease only when `owner` holds it, so another node can take over at once. */
export async function releaseLease(redis: RedisClient, key: string, owner: string): Promise<boolean> {
  return (await redis.eval(RELEASE, 1, key, owner)) === 1;
}
