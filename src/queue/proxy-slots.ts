import type { RedisClient } from '../redis-client.ts';

// ZSET of holders scored by expiry: expired holders go, then one more is let in if fewer than ARGV[3] hold.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

/**
 * Slots of a proxy shared by every worker: at most `limit` slices through one proxy at once, so its sshd
 * (MaxStartups) is not flooded by a big job's slices. A holder's slot expires unless renewed, so a
 * dead worker's slots come back by themselves.
 */
export class ProxySlots {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, prefix: string, ttlMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlMs = ttlMs;
  }

  /** Takes (or renews) a slot of `proxy` for `holder`; false when `limit` others hold one. */
  async acquire(proxy: string, holder: string, limit: number): Promise<boolean> {
    const now = Date.now();
    const held = await this.#redis.eval(
      ACQUIRE,
      1,
      this.#key(proxy),
      String(now),
      holder,
      String(limit),
      String(now + this.#ttlMs),
      String(this.#ttlMs * 4),
    );
    return held === 1;
  }

  /** Renews the slot of `holder` (the worker's heartbeat does it while the slice runs). */
  async renew(proxy: string, holder: string): Promise<void> {
    await this.#redis
      .multi()
      .zadd(this.#key(proxy), 'XX', Date.now() + this.#ttlMs, holder)
      .pexpire(this.#key(proxy), this.#ttlMs * 4)
      .exec();
  }

  async release(proxy: string, holder: string): Promise<void> {
    await this.#redis.zrem(this.#key(proxy), holder);
  }

  #key(proxy: string): string {
    return `${this.#prefix}proxy-slots:${proxy}`;
  }
}
