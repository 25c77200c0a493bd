import type { RegistryChanges } from './registry-changes.ts';

/** What a memoized loader returns: its value, and until when it holds at the latest (epoch ms). */
export interface Loaded<T> {
  value: T;
  until?: number;
}

/**
 * Wraps a per-project loader so it runs again only when the project's registry version moved (or its
 * `until` passed): a caller asking every second costs Redis nothing while the project does not change.
 */
export function memoizeByProject<T>(
  changes: RegistryChanges,
  load: (project: string) => Promise<Loaded<T>>,
): (project: string) => Promise<T> {
  const cache = new Map<string, { version: string; loaded: Loaded<T> }>();
  return async (project) => {
    const { projects } = await changes.snapshot();
    const version = projects.get(project) ?? 'none';
    const hit = cache.get(project);
    if (hit?.version === version && (hit.loaded.until === undefined || Date.now() < hit.loaded.until))
      return hit.loaded.value;
    // Keyed by the version seen before loading: a write meanwhile makes the next call load again.
    const loaded = await load(project);
    cache.set(project, { version, loaded });
    return loaded.value;
  };
}
