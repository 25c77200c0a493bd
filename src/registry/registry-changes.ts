import type { RedisClient } from '../redis-client.ts';
import { registryKeys, type RegistryKeys } from './registry-keys.ts';

/** What a {@link RegistryChanges} last saw: the registry's version and each project's. */
export interface RegistrySnapshot {
  version: string;
  /** Every project id, with the registry version of its last change (`0`: none since indexing). */
  projects: ReadonlyMap<string, string>;
}

/**
 * Tells a poller what changed in the registry at a cost that does not grow with it: one GET of the
 * registry's version per `freshMs` (callers within it share the answer), and the project list with its
 * versions only when that moved. Every registry write bumps the version in the write's own atomic step,
 * so a change cannot be missed (unlike keyspace notifications or pub/sub, lost while disconnected).
 */
export class RegistryChanges {
  readonly #redis: RedisClient;
  readonly #keys: RegistryKeys;
  readonly #freshMs: number;
  #last: RegistrySnapshot | undefined;
  #checkedAt = 0;
  #checking: Promise<RegistrySnapshot> | undefined;

  /** @param freshMs how long one check answers every caller. Default 500. */
  constructor(redis: RedisClient, prefix: string, options: { freshMs?: number } = {}) {
    this.#redis = redis;
    this.#keys = registryKeys(prefix);
    this.#freshMs = options.freshMs ?? 500;
  }

  /** The registry as of at most `freshMs` ago. */
  snapshot(): Promise<RegistrySnapshot> {
    if (this.#last && Date.now() - this.#checkedAt < this.#freshMs) return Promise.resolve(this.#last);
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<RegistrySnapshot> {
    const version = (await this.#redis.get(this.#keys.version)) ?? '0';
    if (this.#last?.version !== version) {
      // Read after the version: a write in between shows as a newer version next time, never as a miss.
      const [ids, versions] = await Promise.all([
        this.#redis.smembers(this.#keys.all('project')),
        this.#redis.hgetall(this.#keys.projectVersions),
      ]);
      this.#last = { version, projects: new Map(ids.sort().map((id) => [id, versions[id] ?? '0'])) };
    }
    this.#checkedAt = Date.now();
    return this.#last;
  }
}
