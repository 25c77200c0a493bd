import type { EntityKind } from './read-entity.ts';

/** What the index layout is: a registry whose marker holds another value gets its indexes built at start. */
export const INDEX_LAYOUT = '1';

const ALL: Record<EntityKind, string> = { project: 'projects', proxy: 'proxies', host: 'hosts' };

/**
 * The registry's Redis keys under `prefix`: one JSON value per entity, one set of ids per kind (all of
 * them), per-project sets of ids (hosts by project, by explicit proxy, by network; proxies by project),
 * and the change counters tunnel nodes poll. Ids are names (no `:`), so no two keys can collide.
 */
export function registryKeys(prefix: string) {
  return {
    entity: (kind: EntityKind, id: string) => `${prefix}${kind}:${id}`,
    all: (kind: EntityKind) => `${prefix}${ALL[kind]}`,
    projectHosts: (project: string) => `${prefix}project-hosts:${project}`,
    projectProxies: (project: string) => `${prefix}project-proxies:${project}`,
    proxyHosts: (proxy: string) => `${prefix}proxy-hosts:${proxy}`,
    networkHosts: (project: string, network: string) => `${prefix}network-hosts:${project}:${network}`,
    /** Incremented by every registry write: one GET tells a poller whether anything changed. */
    version: `${prefix}registry-version`,
    /** Hash: project id -> the registry version of its last change (its hosts, proxies, key, claims). */
    projectVersions: `${prefix}project-versions`,
    /** Holds {@link INDEX_LAYOUT} once every entity is in its indexes. */
    indexed: `${prefix}registry-indexed`,
  };
}

/** The registry's keys of one prefix. */
export type RegistryKeys = ReturnType<typeof registryKeys>;

/**
 * The sets an entity is a member of, judged on its stored fields (unvalidated, so a damaged entity can
 * still be unindexed): its kind's set of all ids, and its project's indexes.
 */
export function listIndexes(
  keys: RegistryKeys,
  kind: EntityKind,
  stored: { project?: unknown; proxy?: unknown; network?: unknown },
): string[] {
  const sets = [keys.all(kind)];
  const project = typeof stored.project === 'string' ? stored.project : undefined;
  if (kind === 'proxy' && project) sets.push(keys.projectProxies(project));
  if (kind === 'host') {
    if (project) sets.push(keys.projectHosts(project));
    if (typeof stored.proxy === 'string') sets.push(keys.proxyHosts(stored.proxy));
    if (project && typeof stored.network === 'string') sets.push(keys.networkHosts(project, stored.network));
  }
  return sets;
}
