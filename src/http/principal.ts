/** What a principal may do, weakest first: each role can do everything the ones before it can. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is making a request, as resolved by {@link authenticate} from a bearer token or a session cookie:
 * a token's id and name, its scope (`*` or one project) and its role.
 */
export interface Principal {
  /** Id of the token the request (or its session) was authenticated with. */
  tokenId: string;
  /** A name for people: shown by the console and in the audit trail, never secret. */
  name: string;
  /** `*` for every project, else the one project the token is for. */
  scope: string;
  role: Role;
}

/** The principal of the service token (OUTPOST_API_TOKEN / var/api.token): every project, admin. */
export const SERVICE_PRINCIPAL: Principal = {
  tokenId: 'service',
  name: 'service token',
  scope: '*',
  role: 'admin',
};

/** True when `role` is at least `needed`. */
export function hasRole(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** True when `principal` may see what belongs to `project` (a `*` token sees every project). */
export function seesProject(principal: Principal, project: string | undefined): boolean {
  return principal.scope === '*' || (project !== undefined && project === principal.scope);
}
