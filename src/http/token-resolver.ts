import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenRecord } from '../domain/token.ts';
import { SERVICE_PRINCIPAL, type Principal } from './principal.ts';

/**
 * Turns credentials into principals for {@link authenticate}; swappable (a test, another token source).
 * Nothing may be cached past a revocation: `byId` is asked again on every request of a session.
 */
export interface TokenResolver {
  /** The principal a presented bearer token stands for; undefined when it is not a valid token now. */
  resolve(presented: string): Promise<Principal | undefined>;
  /** The principal of token `tokenId` now; undefined once it is revoked or expired. */
  byId(tokenId: string): Promise<Principal | undefined>;
}

/** Where scoped tokens are kept (secrets/token-store.ts). */
export interface TokenLookup {
  verify(presented: string): Promise<TokenRecord | undefined>;
  find(id: string): Promise<TokenRecord | undefined>;
}

/**
 * The service token (compared by digest in constant time), then the tokens of `store`: what `outpost
 * token create` made, each read from Redis on every use.
 */
export function createTokenResolver(serviceToken: string, store?: TokenLookup): TokenResolver {
  const expected = digest(serviceToken);
  return {
    async resolve(presented) {
      if (timingSafeEqual(digest(presented), expected)) return SERVICE_PRINCIPAL;
      const record = await store?.verify(presented);
      return record ? toPrincipal(record) : undefined;
    },
    async byId(tokenId) {
      if (tokenId === SERVICE_PRINCIPAL.tokenId) return SERVICE_PRINCIPAL;
      const record = await store?.find(tokenId);
      return record ? toPrincipal(record) : undefined;
    },
  };
}

function toPrincipal(record: TokenRecord): Principal {
  return { tokenId: record.id, name: record.name, scope: record.scope, role: record.role };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
