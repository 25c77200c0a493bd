import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis-client.ts';
import type { Principal } from './principal.ts';

/** A console session: who signed in, the CSRF token its state changes must carry, when it ends. */
export interface Session {
  principal: Principal;
  /** Sent back by the console in `X-CSRF-Token` on every state-changing request. */
  csrf: string;
  createdAt: string;
  expiresAt: string;
}

/**
 * Console sessions in Redis, each under the SHA-256 of its id (a Redis dump holds no usable cookie),
 * expiring by TTL; sign-out deletes one at once.
 */
export class SessionStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  /** Lifetime of a new session in seconds. */
  readonly ttlSeconds: number;

  /** @param ttlSeconds lifetime of a session (default 12 h). */
  constructor(redis: RedisClient, prefix = 'outpost:', ttlSeconds = 12 * 3600) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.ttlSeconds = ttlSeconds;
  }

  /** Opens a session for `principal`; resolves to its id (the cookie's value) and the session. */
  async create(principal: Principal): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const now = Date.now();
    const session: Session = {
      principal,
      csrf: randomBytes(24).toString('base64url'),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.ttlSeconds * 1000).toISOString(),
    };
    await this.#redis.set(this.#key(id), JSON.stringify(session), 'EX', this.ttlSeconds);
    return { id, session };
  }

  /** The live session of `id`; undefined when it never existed, expired or was signed out. */
  async get(id: string): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const text = await this.#redis.get(this.#key(id));
    return text === null ? undefined : (JSON.parse(text) as Session);
  }

  /** Ends a session now. */
  async remove(id: string): Promise<void> {
    await this.#redis.del(this.#key(id));
  }

  #key(id: string): string {
    return `${this.#prefix}session:${createHash('sha256').update(id).digest('hex')}`;
  }
}
