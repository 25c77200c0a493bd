import type { JobInput } from './job-input.ts';
import type { Locator, Lookups, Owned } from './route.ts';

/** The project named by the request itself (`/projects/:id`, a body's `project`). */
export function projectNamed<I>(
  pick: (input: I) => string,
  describe: string,
  outside?: 'forbidden',
): Locator<I> {
  return {
    describe,
    ...(outside ? { outside } : {}),
    locate: (input) => {
      const id = pick(input);
      return Promise.resolve([{ kind: 'project', id, project: id }]);
    },
  };
}

/** The project of the host the request names. */
export function hostNamed<I>(pick: (input: I) => string, describe: string): Locator<I> {
  return ownedBy('host', pick, describe, (lookups, id) => lookups.host(id));
}

/** The project of the proxy the request names. */
export function proxyNamed<I>(pick: (input: I) => string, describe: string): Locator<I> {
  return ownedBy('proxy', pick, describe, (lookups, id) => lookups.proxy(id));
}

/** The project of the job the request names (a job of no project, a local run, is `*`-only). */
export function jobNamed<I>(pick: (input: I) => string, describe: string): Locator<I> {
  return ownedBy('job', pick, describe, (lookups, id) => lookups.job(id));
}

/** The scope of the token the request names: a project token sees only tokens of its project. */
export function tokenNamed<I>(pick: (input: I) => string, describe: string): Locator<I> {
  return ownedBy('token', pick, describe, async (lookups, id) => {
    const token = await lookups.token(id);
    return token ? { project: token.scope } : undefined;
  });
}

function ownedBy<I>(
  kind: string,
  pick: (input: I) => string,
  describe: string,
  find: (lookups: Lookups, id: string) => Promise<{ project?: string | undefined } | undefined>,
): Locator<I> {
  return {
    describe,
    async locate(input, lookups): Promise<Owned[]> {
      const id = pick(input);
      return [{ kind, id, project: (await find(lookups, id))?.project }];
    },
  };
}

/**
 * The objects a job names: its project, its selector's proxy and each of its hosts (host or proxy ids;
 * `localhost` belongs to no project). A network selector names none: the job is held to the token's
 * project by the handler instead.
 */
export const jobTargets: Locator<{ body: JobInput }> = {
  describe: 'the project of the job: its `project`, its `selector.proxy` and each of its `hosts`',
  async locate({ body }, lookups): Promise<Owned[]> {
    const owned: Owned[] = [];
    if (body.project) owned.push({ kind: 'project', id: body.project, project: body.project });
    if (body.selector?.proxy) {
      const id = body.selector.proxy;
      owned.push({ kind: 'proxy', id, project: (await lookups.proxy(id))?.project });
    }
    const found = await Promise.all(
      (body.hosts ?? []).map(async (id) => (await lookups.host(id)) ?? (await lookups.proxy(id))),
    );
    (body.hosts ?? []).forEach((id, i) => owned.push({ kind: 'host', id, project: found[i]?.project }));
    return owned;
  },
};
