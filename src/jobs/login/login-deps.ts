import type { Registry } from '../../registry/registry.ts';
import type { KeyStore } from '../../secrets/key-store.ts';
import type { JobDeps } from '../runtime/job-deps.ts';

/** JobDeps with what the login jobs (enroll, probe, prepare-proxy) cannot do without. */
export type LoginDeps = JobDeps & { registry: Registry; keys: KeyStore };

/** Checks this worker was given the registry and the key store. */
export function requireLoginDeps(deps: JobDeps, kind: string): LoginDeps {
  const { registry, keys } = deps;
  if (!registry || !keys)
    throw new Error(`this worker has no registry or key store: it cannot run ${kind} jobs`);
  return { ...deps, registry, keys };
}
