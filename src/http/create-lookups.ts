import { NotFoundError } from '../errors.ts';
import type { RegistryPort } from './registry-port.ts';
import type { Lookups } from './route.ts';

/** Where {@link createLookups} reads owners from. */
export interface LookupSources {
  registry?: RegistryPort;
  jobs: { find(id: string): Promise<{ project?: string | undefined } | undefined> };
  tokens?: { find(id: string): Promise<{ scope: string } | undefined> };
}

/** The owner lookups of the guard, from the registry, the job store and the token store. */
export function createLookups(sources: LookupSources): Lookups {
  const entity = async (
    get: (() => Promise<unknown>) | undefined,
  ): Promise<{ project: string } | undefined> => {
    if (!get) return undefined;
    try {
      const found = (await get()) as { project?: unknown };
      return typeof found.project === 'string' ? { project: found.project } : undefined;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  };
  const { registry } = sources;
  return {
    host: (id) => entity(registry && (() => registry.getHost(id))),
    proxy: (id) => entity(registry && (() => registry.getProxy(id))),
    job: (id) => sources.jobs.find(id),
    token: async (id) => sources.tokens?.find(id),
  };
}
