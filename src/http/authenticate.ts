import type { Request, RequestHandler, Response } from 'express';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { Principal } from './principal.ts';
import type { TokenResolver } from './token-resolver.ts';
import type { Session, SessionStore } from './session-store.ts';
import { readSessionCookie } from './session-cookie.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one place requests are authenticated: a `Bearer` token (API clients, the CLI) or the console's
 * session cookie. Puts the {@link Principal} on `res.locals.principal`. A session's token is checked again
 * on every request, so revoking the token ends its sessions at once. A cookie-authenticated request that
 * changes state must come from this origin and carry the session's `X-CSRF-Token`.
 */
export function authenticate(options: {
  resolveToken: TokenResolver;
  sessions?: SessionStore;
}): RequestHandler {
  return (req, res, next) => {
    resolve(req, options).then(({ principal, session }) => {
      res.locals.principal = principal;
      if (session) res.locals.session = session;
      next();
    }, next);
  };
}

async function resolve(
  req: Request,
  options: { resolveToken: TokenResolver; sessions?: SessionStore },
): Promise<{ principal: Principal; session?: { id: string; value: Session } }> {
  const header = req.get('authorization');
  if (header !== undefined) {
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    const principal = match?.[1] ? await options.resolveToken.resolve(match[1]) : undefined;
    if (!principal) throw new UnauthorizedError('the bearer token is not valid');
    return { principal };
  }
  const id = readSessionCookie(req);
  const session = id !== undefined ? await options.sessions?.get(id) : undefined;
  if (!session) throw new UnauthorizedError();
  const principal = await options.resolveToken.byId(session.principal.tokenId);
  if (!principal) {
    await options.sessions?.remove(id ?? '');
    throw new UnauthorizedError('the token this session was opened with was revoked or has expired');
  }
  if (!SAFE_METHODS.has(req.method)) {
    const crossSite = describeCrossSite(req);
    if (crossSite) throw new ForbiddenError(`refused a state change from another site: ${crossSite}`);
    if (req.get('x-csrf-token') !== session.csrf)
      throw new ForbiddenError('X-CSRF-Token: missing or not this session’s token');
  }
  return { principal, session: { id: id ?? '', value: { ...session, principal } } };
}

/** Why a request looks cross-site (by `Sec-Fetch-Site` or `Origin`), or undefined when it does not. */
export function describeCrossSite(req: Request): string | undefined {
  const fetchSite = req.get('sec-fetch-site');
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none')
    return `Sec-Fetch-Site is ${JSON.stringify(fetchSite)}`;
  const origin = req.get('origin');
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.get('host')) return `Origin ${JSON.stringify(origin.slice(0, 100))} is not this server`;
  }
  return undefined;
}

/** The console session the request was authenticated with, if it came with the cookie. */
export function readSession(res: Response): { id: string; value: Session } | undefined {
  return res.locals.session as { id: string; value: Session } | undefined;
}

/** The principal {@link authenticate} resolved; a route not behind it has none and is refused. */
export function readPrincipal(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new UnauthorizedError();
  return principal;
}
