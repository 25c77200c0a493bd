import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { hasRole, type Role } from '../../src/http/principal.ts';
import type { Principal } from './types.ts';

/** Who is signed in, for every page: what it may do decides which actions it is offered. */
export const PrincipalContext = createContext<Principal | undefined>(undefined);

/**
 * Whether the signed-in token's role is at least `role` (viewer < operator < admin): pages offer only
 * the actions it allows. The server decides in any case; this only keeps a viewer from buttons it
 * would get a 403 for.
 */
export function useCan(role: Role): boolean {
  const principal = useContext(PrincipalContext);
  return principal !== undefined && hasRole(principal.role, role);
}
