import { createHmac } from 'node:crypto';
import type { RedisClient } from '../redis-client.ts';
import { NotFoundError, ValidationError, quote } from '../errors.ts';
import { isName } from '../domain/name.ts';
import { acquireLease, releaseLease, renewLease } from '../lease.ts';
import { generateKeypair } from './generate-keypair.ts';
import { seal, unseal } from './seal.ts';

/** One stored keypair: the public key in clear, the private key sealed under the master key. */
interface StoredKey {
  publicKey: string;
  sealed: string;
  createdAt: string;
}

/** Redis writes (value, or null to delete) that promote a project's next key, and its public key. */
export interface KeyPromotion {
  publicKey: string;
  writes: [key: string, value: string | null][];
}

/**
 * The admin keypair and one keypair per project, ed25519 in OpenSSH format, generated on first
 * need and kept in Redis with the private key sealed (AES-256-GCM, the Redis key as associated data).
 * Rotation: `beginRotation` makes a next key (a job adds it to cloudroot with the current key),
 * `promotion` gives the writes that promote it (after the job removed the old one), which
 * `Registry.promoteProjectKey` applies atomically with the project's public key.
 */
export class KeyStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #masterKey: Buffer;

  constructor(redis: RedisClient, masterKey: Buffer, prefix = 'outpost:') {
    this.#redis = redis;
    this.#masterKey = masterKey;
    this.#prefix = prefix;
  }

  /** A key for keyed digests of `purpose` (HMAC of the master key): never stored, the same on every node. */
  derivedKey(purpose: string): Buffer {
    return createHmac('sha256', this.#masterKey).update(`outpost:derived:${purpose}`).digest();
  }

  /** The admin public key, generating the keypair on first call. */
  ensureAdminKey(): Promise<string> {
    return this.#ensure(this.#adminSlot(), 'outpost-admin');
  }

  /** The project's public key, generating the keypair on first call. */
  ensureProjectKey(project: string): Promise<string> {
    return this.#ensure(this.#projectSlot(project), `outpost-${project}`);
  }

  async adminPublicKey(): Promise<string> {
    return (await this.#read(this.#adminSlot(), 'admin key')).publicKey;
  }

  async projectPublicKey(project: string): Promise<string> {
    return (await this.#read(this.#projectSlot(project), 'project key')).publicKey;
  }

  /** The admin private key in clear: only for key files and ssh2 connections, never for logs. */
  async adminPrivateKey(): Promise<string> {
    return this.#open(this.#adminSlot(), 'admin key');
  }

  /** The project's private key in clear: only for key files and ssh2 connections, never for logs. */
  async projectPrivateKey(project: string): Promise<string> {
    return this.#open(this.#projectSlot(project), 'project key');
  }

  /** Creates (or returns the pending) next project key; resolves both public keys. */
  async beginRotation(project: string): Promise<{ current: string; next: string }> {
    const current = await this.projectPublicKey(project);
    const next = await this.#ensure(`${this.#projectSlot(project)}:next`, `outpost-${project}`);
    return { current, next };
  }

  /** The pending next private key, for the rotation job to prove the new key logs in. */
  async nextProjectPrivateKey(project: string): Promise<string> {
    return this.#open(`${this.#projectSlot(project)}:next`, 'next project key');
  }

  /**
   * The writes that promote the pending next key to the project's key (the slot gets the next key,
   * re-sealed for it; the next slot goes), for the caller to apply in one transaction with its own.
   */
  async promotion(project: string): Promise<KeyPromotion> {
    const slot = this.#projectSlot(project);
    const next = await this.#read(`${slot}:next`, 'next project key');
    // Re-seal: the associated data names the slot, so a sealed value cannot simply be renamed.
    const clear = unseal(next.sealed, this.#masterKey, `${slot}:next`);
    const promoted: StoredKey = { ...next, sealed: seal(clear, this.#masterKey, slot) };
    return {
      publicKey: next.publicKey,
      writes: [
        [slot, JSON.stringify(promoted)],
        [`${slot}:next`, null],
      ],
    };
  }

  /** Forgets the pending next key of an abandoned rotation; resolves whether there was one. */
  async abandonRotation(project: string): Promise<boolean> {
    return (await this.#redis.del(`${this.#projectSlot(project)}:next`)) === 1;
  }

  /** Whether a rotation is pending (a next key exists). */
  async rotationPending(project: string): Promise<boolean> {
    return (await this.#redis.exists(`${this.#projectSlot(project)}:next`)) === 1;
  }

  /**
   * Takes the project's rotation lease for `owner` (a job id) for `ttlMs`: one rotation per project at
   * a time, on any node. Resolves the holder's id when another owner has it.
   */
  async lockRotation(
    project: string,
    owner: string,
    ttlMs: number,
  ): Promise<{ locked: true } | { locked: false; holder: string }> {
    const key = this.#rotationLockKey(project);
    if (await acquireLease(this.#redis, key, owner, ttlMs)) return { locked: true };
    return { locked: false, holder: (await this.#redis.get(key)) ?? 'a job that just ended' };
  }

  /** Extends the rotation lease while `owner` holds it; false when it was lost. */
  renewRotationLock(project: string, owner: string, ttlMs: number): Promise<boolean> {
    return renewLease(this.#redis, this.#rotationLockKey(project), owner, ttlMs);
  }

  /** Drops the rotation lease when `owner` holds it. */
  async unlockRotation(project: string, owner: string): Promise<void> {
    await releaseLease(this.#redis, this.#rotationLockKey(project), owner);
  }

  /** Forgets a project's keys (current and pending). */
  async deleteProjectKeys(project: string): Promise<void> {
    const slot = this.#projectSlot(project);
    await this.#redis.del(slot, `${slot}:next`);
  }

  #rotationLockKey(project: string): string {
    return `${this.#projectSlot(project)}:rotating`;
  }

  #adminSlot(): string {
    return `${this.#prefix}keys:admin`;
  }

  #projectSlot(project: string): string {
    if (!isName(project)) throw new ValidationError('project', `not a project name: ${quote(project)}`);
    return `${this.#prefix}keys:project:${project}`;
  }

  async #ensure(slot: string, comment: string): Promise<string> {
    const existing = await this.#redis.get(slot);
    if (existing !== null) return (JSON.parse(existing) as StoredKey).publicKey;
    const pair = generateKeypair(comment);
    const stored: StoredKey = {
      publicKey: pair.publicKey,
      sealed: seal(pair.privateKey, this.#masterKey, slot),
      createdAt: new Date().toISOString(),
    };
    // NX: when two nodes race, both end up with the winner's key.
    await this.#redis.set(slot, JSON.stringify(stored), 'NX');
    return (await this.#read(slot, 'key')).publicKey;
  }

  async #read(slot: string, what: string): Promise<StoredKey> {
    const text = await this.#redis.get(slot);
    if (text === null) throw new NotFoundError(what, slot.slice(this.#prefix.length));
    return JSON.parse(text) as StoredKey;
  }

  async #open(slot: string, what: string): Promise<string> {
    return unseal((await this.#read(slot, what)).sealed, this.#masterKey, slot).toString('utf8');
  }
}
