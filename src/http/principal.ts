/** What a principal may do; issue 10 gives tokens a role, until then every principal is `admin`. */
export type Role = 'viewer' | 'operator' | 'admin';

/**
 * Who is making a request, as resolved by {@link authenticate} from a bearer token or a session cookie.
 * Kept small and plain so scoped tokens (a project instead of `*`) and roles slot in without new shapes.
 */
export interface Principal {
  /** Id of the token the request (or its session) was authenticated with. */
  tokenId: string;
  /** A name for people: shown by the console, never secret. */
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
