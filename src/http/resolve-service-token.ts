import { createHash, timingSafeEqual } from 'node:crypto';
import { SERVICE_PRINCIPAL, type Principal } from './principal.ts';

/** Finds the principal a presented bearer token stands for; undefined when it is not a valid token. */
export type TokenResolver = (presented: string) => Promise<Principal | undefined>;

/** A resolver that knows the one service token; compares digests in constant time. */
export function resolveServiceToken(token: string): TokenResolver {
  const expected = digest(token);
  return (presented) =>
    Promise.resolve(timingSafeEqual(digest(presented), expected) ? SERVICE_PRINCIPAL : undefined);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
