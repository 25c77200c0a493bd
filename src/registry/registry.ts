import type { RedisClient } from '../redis-client.ts';
import { ConflictError, NotFoundError, ValidationError, quote } from '../errors.ts';
import { decidePin } from '../domain/decide-pin.ts';
import { hostInputSchema, hostPatchSchema, type Host } from '../domain/host.ts';
import { cidrContains, looksLikeCidr } from '../domain/cidr.ts';
import { parseInput } from '../domain/parse-input.ts';
import { projectInputSchema, type Project } from '../domain/project.ts';
import { proxyInputSchema, proxyPatchSchema, type Proxy } from '../domain/proxy.ts';
import { describeTie, selectProxy, tiedProxies } from '../domain/select-proxy.ts';
import { hostKeySchema } from '../domain/ssh-key-line.ts';
import { isName } from '../domain/name.ts';
import type { RegistryWrite } from '../domain/registry-write.ts';
import type { KeyPromotion } from '../secrets/key-store.ts';
import { applyEntityWrite } from './apply-entity-write.ts';
import { checkEntity, readEntity, type EntityKind } from './read-entity.ts';
import { INDEX_LAYOUT, listIndexes, registryKeys, type RegistryKeys } from './registry-keys.ts';

/** Where project public keys come from when a project is created without them. */
export interface ProjectKeySource {
  ensureAdminKey(): Promise<string>;
  ensureProjectKey(project: string): Promise<string>;
}

type Kind = EntityKind;

/**
 * Projects, proxies and hosts in Redis, one JSON value per entity plus sets of ids (per kind, and per
 * project: hosts by project, explicit proxy and network, proxies by project), all under `prefix`. A
 * project's list reads only that project's entities. Every write changes the value, its indexes and the
 * change counters in one atomic step; every create validates strictly; every read is validated.
 */
export class Registry {
  readonly #redis: RedisClient;
  readonly #at: RegistryKeys;
  readonly #keys: ProjectKeySource | undefined;
  readonly #onWrite: ((write: RegistryWrite) => Promise<void>) | undefined;

  /**
   * @param keys generates project public keys when `createProject` gets none.
   * @param onWrite told after each write (awaited; it must not throw): the event stream's publisher.
   */
  constructor(
    redis: RedisClient,
    prefix = 'outpost:',
    options: { keys?: ProjectKeySource; onWrite?: (write: RegistryWrite) => Promise<void> } = {},
  ) {
    this.#redis = redis;
    this.#at = registryKeys(prefix);
    this.#keys = options.keys;
    this.#onWrite = options.onWrite;
  }

  /** Creates a project; generates its keypair through the key source when `publicKeys` is omitted. */
  async createProject(input: unknown): Promise<Project> {
    const parsed = parseInput(projectInputSchema, input);
    let publicKeys = parsed.publicKeys;
    if (!publicKeys) {
      if (!this.#keys)
        throw new ValidationError('publicKeys', 'required: this registry has no key store to generate them');
      if (await this.#exists('project', parsed.id)) throw duplicate('project', parsed.id);
      publicKeys = {
        admin: await this.#keys.ensureAdminKey(),
        project: await this.#keys.ensureProjectKey(parsed.id),
      };
    }
    const project: Project = { id: parsed.id, createdAt: new Date().toISOString(), publicKeys };
    await this.#insert('project', project.id, project);
    return project;
  }

  /**
   * Promotes a rotated project key in one atomic Redis script: the project's public key and the key
   * store's writes land together or not at all (never the new private key with the old public key).
   */
  async promoteProjectKey(id: string, promotion: KeyPromotion): Promise<Project> {
    const key = this.#key('project', id);
    for (let attempt = 0; attempt < 20; attempt++) {
      const text = await this.#redis.get(key);
      if (text === null) throw new NotFoundError('project', id);
      const current = peek<Project>(text) as Project;
      const next: Project = {
        ...current,
        publicKeys: { ...current.publicKeys, project: promotion.publicKey },
      };
      checkEntity('project', id, next);
      const written = await applyEntityWrite(this.#redis, this.#at, {
        kind: 'project',
        id,
        expected: text,
        before: current,
        next,
        also: promotion.writes,
      });
      if (written) return next;
    }
    throw new ConflictError(`project ${quote(id)} is being changed by someone else; try again`);
  }

  listProjects(): Promise<Project[]> {
    return this.#list<Project>('project', this.#at.all('project'));
  }

  getProject(id: string): Promise<Project> {
    return this.#get<Project>('project', id);
  }

  /** Deletes an empty project; refuses while it still has hosts or proxies. */
  async deleteProject(id: string): Promise<void> {
    const project = await this.getProject(id);
    const [hosts, proxies] = await Promise.all([
      this.listHosts({ project: id }),
      this.listProxies({ project: id }),
    ]);
    if (hosts.length > 0 || proxies.length > 0) {
      throw new ConflictError(
        `project ${quote(id)} still has ${hosts.length} host(s) and ${proxies.length} proxy(ies); delete them first`,
        { project: id },
      );
    }
    await this.#remove('project', project.id);
  }

  /** Creates a proxy of an existing project; its name must not be used by a host either. */
  async createProxy(input: unknown): Promise<Proxy> {
    const proxy: Proxy = parseInput(proxyInputSchema, input);
    await this.#requireProject(proxy.project);
    if (await this.#exists('host', proxy.id)) throw duplicate('host', proxy.id, 'proxy');
    await this.#insert('proxy', proxy.id, proxy);
    return proxy;
  }

  async listProxies(filter: { project?: string } = {}): Promise<Proxy[]> {
    return this.#list<Proxy>(
      'proxy',
      filter.project === undefined ? this.#at.all('proxy') : this.#at.projectProxies(filter.project),
      (proxy) => filter.project === undefined || proxy.project === filter.project,
    );
  }

  getProxy(id: string): Promise<Proxy> {
    return this.#get<Proxy>('proxy', id);
  }

  /** Changes a proxy's fields; `null` removes an optional one (e.g. `hostKey: null` unpins). */
  async updateProxy(id: string, patch: unknown): Promise<Proxy> {
    const changes = parseInput(proxyPatchSchema, patch);
    return this.#update<Proxy>('proxy', id, (proxy) => applyPatch(proxy, changes));
  }

  /** Deletes a proxy; refuses while hosts name it explicitly. */
  async deleteProxy(id: string): Promise<void> {
    await this.#peekStored('proxy', id);
    const users = await this.listHosts({ proxy: id });
    if (users.length > 0) {
      throw new ConflictError(
        `proxy ${quote(id)} is the explicit proxy of ${users.map((h) => h.id).join(', ')}`,
        { proxy: id },
      );
    }
    await this.#remove('proxy', id);
  }

  /** Creates a host of an existing project; an explicit proxy must exist in the same project. */
  async createHost(input: unknown): Promise<Host> {
    const parsed = parseInput(hostInputSchema, input);
    await this.#requireProject(parsed.project);
    if (
      parsed.network &&
      looksLikeCidr(parsed.network) &&
      !isHostnameOrInside(parsed.network, parsed.address)
    ) {
      throw new ValidationError(
        'address',
        `${quote(parsed.address)} is not inside network ${quote(parsed.network)}`,
      );
    }
    if (parsed.proxy) await this.#requireProxy(parsed.proxy, parsed.project);
    if (!parsed.proxy) {
      const proxies = await this.listProxies({ project: parsed.project });
      const tied = tiedProxies(parsed, proxies);
      if (tied.length > 0) throw new ValidationError('proxy', describeTie(parsed, tied));
      if (parsed.reach === 'jump' && !selectProxy(parsed, proxies)) {
        throw new ValidationError(
          'reach',
          `"jump" needs a proxy, and no proxy of project ${quote(parsed.project)} serves ${quote(parsed.address)}`,
        );
      }
    }
    if (await this.#exists('proxy', parsed.id)) throw duplicate('proxy', parsed.id, 'host');
    const host: Host = { ...parsed, login: { state: 'unknown' }, agent: { state: 'none' } };
    await this.#insert('host', host.id, host);
    return host;
  }

  /** Hosts matching every given filter; reads only the smallest index that covers them. */
  async listHosts(filter: { project?: string; network?: string; proxy?: string } = {}): Promise<Host[]> {
    const { project, network, proxy } = filter;
    const index =
      proxy !== undefined
        ? this.#at.proxyHosts(proxy)
        : project === undefined
          ? this.#at.all('host')
          : network === undefined
            ? this.#at.projectHosts(project)
            : this.#at.networkHosts(project, network);
    return this.#list<Host>(
      'host',
      index,
      (host) =>
        (filter.project === undefined || host.project === filter.project) &&
        (filter.network === undefined || host.network === filter.network) &&
        (filter.proxy === undefined || host.proxy === filter.proxy),
    );
  }

  getHost(id: string): Promise<Host> {
    return this.#get<Host>('host', id);
  }

  /** Changes a host's fields (validated like create); `null` removes an optional one. */
  async updateHost(id: string, patch: unknown): Promise<Host> {
    const changes = parseInput(hostPatchSchema, patch);
    if (typeof changes.proxy === 'string')
      await this.#requireProxy(changes.proxy, (await this.getHost(id)).project);
    return this.#update<Host>('host', id, (host) => applyPatch(host, changes));
  }

  /** Deletes a host, even one whose stored value no longer reads (so an operator can remove it). */
  async deleteHost(id: string): Promise<void> {
    await this.#peekStored('host', id);
    await this.#remove('host', id);
  }

  /** The proxy carrying SSH to `host`: its explicit proxy, else the most specific matching network. */
  async proxyFor(host: Host): Promise<Proxy | undefined> {
    return selectProxy(host, await this.listProxies({ project: host.project }));
  }

  /**
   * Records the key a host or proxy presented at first contact, or checks it against the pinned
   * one. Resolves `recorded` or `unchanged`; throws HostKeyChangedError on a different key.
   */
  async pinHostKey(kind: 'host' | 'proxy', id: string, presented: string): Promise<'recorded' | 'unchanged'> {
    const key = parseInput(hostKeySchema, presented, 'hostKey');
    const current = kind === 'host' ? await this.getHost(id) : await this.getProxy(id);
    if (decidePin(kind, id, current.hostKey, key) === 'unchanged') return 'unchanged';
    await this.#update<Host | Proxy>(kind, id, (entity) => {
      // Another node may have pinned a different key meanwhile: check again inside the transaction.
      decidePin(kind, id, entity.hostKey, key);
      return { ...entity, hostKey: key };
    });
    return 'recorded';
  }

  /**
   * Puts every stored entity into its indexes when the registry was written by a version without them
   * (its marker is missing); idempotent, and a no-op (one GET) once done. Run at start by every node.
   * @returns how many entities were indexed.
   */
  async ensureIndexes(): Promise<number> {
    if ((await this.#redis.get(this.#at.indexed)) === INDEX_LAYOUT) return 0;
    let count = 0;
    for (const kind of ['project', 'proxy', 'host'] as const) {
      const ids = await this.#redis.smembers(this.#at.all(kind));
      for (let start = 0; start < ids.length; start += 500) {
        const batch = ids.slice(start, start + 500);
        const texts = await this.#redis.mget(batch.map((id) => this.#key(kind, id)));
        const multi = this.#redis.multi();
        texts.forEach((text, i) => {
          const id = batch[i] ?? '';
          if (text === null) return;
          for (const set of listIndexes(this.#at, kind, peek(text))) multi.sadd(set, id);
          count += 1;
        });
        await multi.exec();
      }
    }
    // Tunnel nodes that cached what they read before see a change and read again.
    await this.#redis.multi().incr(this.#at.version).set(this.#at.indexed, INDEX_LAYOUT).exec();
    return count;
  }

  #key(kind: Kind, id: string): string {
    return this.#at.entity(kind, id);
  }

  async #exists(kind: Kind, id: string): Promise<boolean> {
    return (await this.#redis.exists(this.#key(kind, id))) === 1;
  }

  /** The stored fields of an existing entity, unvalidated (a damaged one can still be deleted). */
  async #peekStored<T>(kind: Kind, id: string): Promise<Partial<T>> {
    const text = isName(id) ? await this.#redis.get(this.#key(kind, id)) : null;
    if (text === null) throw new NotFoundError(kind, id);
    return peek<T>(text);
  }

  async #insert(kind: Kind, id: string, value: object): Promise<void> {
    const written = await applyEntityWrite(this.#redis, this.#at, { kind, id, expected: null, next: value });
    if (!written) throw duplicate(kind, id);
    await this.#onWrite?.({ kind, action: 'created', id, after: value });
  }

  async #get<T>(kind: Kind, id: string): Promise<T> {
    if (!isName(id)) throw new NotFoundError(kind, id);
    const text = await this.#redis.get(this.#key(kind, id));
    if (text === null) throw new NotFoundError(kind, id);
    return readEntity<T>(kind, id, text);
  }

  /**
   * The entities of `kind` whose ids are in the set `index` and that `wanted` keeps (judged on their
   * stored fields, so a stale index entry is dropped), each validated as it is read.
   */
  async #list<T extends { id: string }>(
    kind: Kind,
    index: string,
    wanted: (stored: Partial<T>) => boolean = () => true,
  ): Promise<T[]> {
    const ids = (await this.#redis.smembers(index)).sort();
    if (ids.length === 0) return [];
    const texts = await this.#redis.mget(ids.map((id) => this.#key(kind, id)));
    return texts.flatMap((text, index) => {
      const id = ids[index] ?? '';
      if (text === null || !wanted(peek<T>(text))) return [];
      return [readEntity<T>(kind, id, text)];
    });
  }

  /** Deletes an entity and its index entries, as they are when it goes (a compare-and-set). */
  async #remove(kind: Kind, id: string): Promise<void> {
    const key = this.#key(kind, id);
    for (let attempt = 0; attempt < 20; attempt++) {
      const text = await this.#redis.get(key);
      if (text === null) throw new NotFoundError(kind, id);
      const before = peek(text);
      if (await applyEntityWrite(this.#redis, this.#at, { kind, id, expected: text, before })) {
        await this.#onWrite?.({ kind, action: 'deleted', id, before });
        return;
      }
    }
    throw new ConflictError(`${kind} ${quote(id)} is being changed by someone else; try again`);
  }

  /** Read-modify-write as a compare-and-set (safe on a connection shared by concurrent callers). */
  async #update<T>(kind: Kind, id: string, change: (current: T) => T): Promise<T> {
    const key = this.#key(kind, id);
    for (let attempt = 0; attempt < 20; attempt++) {
      const text = await this.#redis.get(key);
      if (text === null) throw new NotFoundError(kind, id);
      // The current value may be damaged: the change is validated as a whole, so only a repair is stored.
      const before = peek<T>(text) as T;
      const next = change(before);
      checkEntity(kind, id, next);
      const written = await applyEntityWrite(this.#redis, this.#at, {
        kind,
        id,
        expected: text,
        before: before as object,
        next: next as object,
      });
      if (written) {
        await this.#onWrite?.({
          kind,
          action: 'updated',
          id,
          before: before as object,
          after: next as object,
        });
        return next;
      }
    }
    throw new ConflictError(`${kind} ${quote(id)} is being changed by someone else; try again`);
  }

  async #requireProject(id: string): Promise<void> {
    if (!(await this.#exists('project', id)))
      throw new ValidationError('project', `no project named ${quote(id)}`);
  }

  async #requireProxy(id: string, project: string): Promise<void> {
    const text = await this.#redis.get(this.#key('proxy', id));
    if (text === null) throw new ValidationError('proxy', `no proxy named ${quote(id)}`);
    const proxy = readEntity<Proxy>('proxy', id, text);
    if (proxy.project !== project)
      throw new ValidationError('proxy', `proxy ${quote(id)} belongs to project ${quote(proxy.project)}`);
  }
}

/** The stored fields of an entity, unvalidated: only to filter or to change it (the result is validated). */
function peek<T>(text: string): Partial<T> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

function duplicate(kind: Kind, id: string, wanted: Kind = kind): ConflictError {
  const by = kind === wanted ? '' : ` (used by a ${kind}; hosts and proxies share one namespace)`;
  return new ConflictError(`${wanted} ${quote(id)} already exists${by}`, { kind: wanted, id });
}

function isHostnameOrInside(network: string, address: string): boolean {
  return !/^[0-9a-fA-F:.]+$/.test(address) || cidrContains(network, address);
}

/** Applies a validated patch: undefined leaves a field, null deletes it. */
function applyPatch<T extends object>(entity: T, patch: object): T {
  const next = { ...entity } as Record<string, unknown>;
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return next as T;
}
