import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../redis-client.ts';
import { parseDuration, TOKEN_ID_PATTERN, type TokenInput, type TokenRecord } from '../domain/token.ts';

/** A presented token: `otk.<id>.<secret>`, the secret 256 random bits in base64url. */
const TOKEN = /^otk\.(tok-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

interface Stored extends TokenRecord {
  /** SHA-256 of `<id>:<secret>`, hex. */
  hash: string;
}

/**
 * API tokens in Redis, each stored only as a hash next to its scope, role and expiry. Nothing is cached:
 * every check reads Redis, so a revocation holds on every node at once.
 *
 * A plain SHA-256 is enough here: the secret is 256 random bits, so there is nothing to guess that a slow
 * password hash would protect; hashing `<id>:<secret>` ties the digest to its record.
 */
export class TokenStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, prefix = 'outpost:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** Creates a token; resolves to its record and the token itself, which is never stored and shown once. */
  async create(
    input: TokenInput,
    createdBy: TokenRecord['createdBy'],
    now = Date.now(),
  ): Promise<{ token: string; record: TokenRecord }> {
    const id = `tok-${randomBytes(6).toString('hex')}`;
    const secret = randomBytes(32).toString('base64url');
    const seconds = input.expiresIn === undefined ? undefined : parseDuration(input.expiresIn);
    const record: TokenRecord = {
      id,
      name: input.name,
      scope: input.scope,
      role: input.role,
      createdAt: new Date(now).toISOString(),
      ...(seconds !== undefined ? { expiresAt: new Date(now + seconds * 1000).toISOString() } : {}),
      createdBy,
    };
    const stored: Stored = { ...record, hash: digest(id, secret) };
    const key = this.#key(id);
    const multi = this.#redis.multi().set(key, JSON.stringify(stored));
    // Redis forgets an expired token by itself; verify() checks the time too.
    if (record.expiresAt) multi.pexpireat(key, Date.parse(record.expiresAt));
    await multi.sadd(this.#index(), id).exec();
    return { token: `otk.${id}.${secret}`, record };
  }

  /** The record of a presented token; undefined when it is malformed, unknown, revoked or expired. */
  async verify(presented: string): Promise<TokenRecord | undefined> {
    const match = TOKEN.exec(presented);
    if (!match?.[1] || !match[2]) return undefined;
    const stored = await this.#read(match[1]);
    if (!stored) return undefined;
    const expected = Buffer.from(stored.hash, 'hex');
    const actual = Buffer.from(digest(match[1], match[2]), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return strip(stored);
  }

  /** The live record of token `id`; undefined when it is unknown, revoked or expired. */
  async find(id: string): Promise<TokenRecord | undefined> {
    if (!TOKEN_ID_PATTERN.test(id)) return undefined;
    const stored = await this.#read(id);
    return stored ? strip(stored) : undefined;
  }

  /** Every live token, oldest first; ids of expired ones are dropped from the index on the way. */
  async list(): Promise<TokenRecord[]> {
    const ids = await this.#redis.smembers(this.#index());
    if (ids.length === 0) return [];
    const texts = await this.#redis.mget(ids.map((id) => this.#key(id)));
    const gone = ids.filter((_, i) => texts[i] === null);
    if (gone.length > 0) await this.#redis.srem(this.#index(), ...gone);
    return texts
      .flatMap((text) => (text === null ? [] : [parse(text)]))
      .filter((stored) => !expired(stored))
      .map(strip)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /** Revokes token `id` at once; resolves whether it existed. */
  async revoke(id: string): Promise<boolean> {
    if (!TOKEN_ID_PATTERN.test(id)) return false;
    const [[, deleted] = []] = (await this.#redis
      .multi()
      .del(this.#key(id))
      .srem(this.#index(), id)
      .exec()) as [Error | null, number][];
    return deleted === 1;
  }

  /** Revokes every token of `project` (the project is deleted); resolves their ids. */
  async revokeScope(project: string): Promise<string[]> {
    const ids = (await this.list()).filter((token) => token.scope === project).map((token) => token.id);
    for (const id of ids) await this.revoke(id);
    return ids;
  }

  async #read(id: string): Promise<Stored | undefined> {
    const text = await this.#redis.get(this.#key(id));
    if (text === null) return undefined;
    const stored = parse(text);
    return expired(stored) ? undefined : stored;
  }

  #key(id: string): string {
    return `${this.#prefix}token:${id}`;
  }

  #index(): string {
    return `${this.#prefix}tokens`;
  }
}

function digest(id: string, secret: string): string {
  return createHash('sha256').update(`${id}:${secret}`).digest('hex');
}

function parse(text: string): Stored {
  return JSON.parse(text) as Stored;
}

function expired(token: TokenRecord): boolean {
  return token.expiresAt !== undefined && Date.parse(token.expiresAt) <= Date.now();
}

function strip({ hash: _hash, ...record }: Stored): TokenRecord {
  return record;
}
