import { ForbiddenError, NotFoundError } from '../errors.ts';
import { hasRole, type Principal, type Role } from './principal.ts';
import type { Access, Lookups, Owned, RouteInput } from './route.ts';

/** What {@link authorize} decided: the project the request is for and the objects it names. */
export interface Decision {
  project: string | undefined;
  owned: Owned[];
}

/**
 * Refuses a role that is too weak (before reading any input): 403, naming the role needed and the one
 * the token has. Public routes need none.
 */
export function checkRole(access: Access<never>, principal: Principal, needed?: Role): void {
  if (access.public) return;
  const role = needed ?? access.role;
  if (!hasRole(principal.role, role))
    throw new ForbiddenError(
      `this needs the ${role} role; token ${JSON.stringify(principal.name)} is ${principal.role === 'viewer' ? 'a' : 'an'} ${principal.role}`,
    );
}

/**
 * The one place a request's scope is decided, once its inputs are valid. A `*` token may touch anything;
 * a project token only its project: `service` routes are 403, and any object of another project is a 404
 * exactly as for an object that does not exist (the answer depends only on the request, never on what
 * another tenant has), or a 403 for what the route marks as never creatable by such a token.
 */
export async function authorize<I extends RouteInput>(
  access: Access<I>,
  principal: Principal,
  input: I,
  lookups: Lookups,
  /** Told what the request names as soon as it is known, so a refused request is audited with it. */
  onLocated: (owned: Owned[]) => void = () => undefined,
): Promise<Decision> {
  if (access.public) return { project: undefined, owned: [] };
  if (access.roleOf) checkRole(access, principal, access.roleOf.role(input));
  const scoped = principal.scope !== '*';
  if (access.scope === 'service') {
    if (scoped)
      throw new ForbiddenError(
        `this needs a token for every project (scope *); token ${JSON.stringify(principal.name)} is for project ${JSON.stringify(principal.scope)}`,
      );
    return { project: undefined, owned: [] };
  }
  if (access.scope === 'own') return { project: scoped ? principal.scope : undefined, owned: [] };
  const owned = await access.scope.locate(input, lookups);
  onLocated(owned);
  if (scoped) {
    const stranger = owned.find((object) => object.project !== principal.scope);
    if (stranger && access.scope.outside === 'forbidden')
      throw new ForbiddenError(
        `token ${JSON.stringify(principal.name)} is for project ${JSON.stringify(principal.scope)}: it cannot act on ${stranger.kind} ${JSON.stringify(stranger.id)}`,
      );
    if (stranger) throw new NotFoundError(stranger.kind, stranger.id);
    return { project: principal.scope, owned };
  }
  const projects = new Set(owned.flatMap(({ project }) => (project && project !== '*' ? [project] : [])));
  return { project: projects.size === 1 ? [...projects][0] : undefined, owned };
}
