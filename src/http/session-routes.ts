import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { describeCrossSite, readSession } from './authenticate.ts';
import { parseInput } from './parse-input.ts';
import type { TokenResolver } from './resolve-service-token.ts';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from './session-cookie.ts';
import type { SessionStore } from './session-store.ts';

const signInBody = z.object({ token: z.string().min(1).max(4096) }).strict();

/**
 * `POST /v1/session` (sign in: a token for an HttpOnly session cookie), open to anyone, so it is mounted
 * before {@link authenticate}. The token is read from the body only, never logged or echoed.
 */
export function signInRoute(resolveToken: TokenResolver, sessions: SessionStore): RequestHandler {
  return async (req, res) => {
    const crossSite = describeCrossSite(req);
    if (crossSite) throw new ForbiddenError(`refused a sign-in from another site: ${crossSite}`);
    const { token } = parseInput(signInBody, req.body, 'body');
    const principal = await resolveToken(token);
    if (!principal) throw new UnauthorizedError('that token is not valid: check it and paste it again');
    const { id, session } = await sessions.create(principal);
    writeSessionCookie(req, res, id, sessions.ttlSeconds);
    res.status(201).json({ principal, csrf: session.csrf, expiresAt: session.expiresAt });
  };
}

/**
 * `GET /v1/session`, open like sign-in: who is signed in with the session cookie, and its CSRF token;
 * `{ principal: null }` when nobody is (so the console asks for a token without an error).
 */
export function whoAmIRoute(sessions: SessionStore): RequestHandler {
  return async (req, res) => {
    const id = readSessionCookie(req);
    const session = id === undefined ? undefined : await sessions.get(id);
    res.setHeader('Cache-Control', 'no-store');
    res.json(
      session
        ? { principal: session.principal, csrf: session.csrf, expiresAt: session.expiresAt }
        : { principal: null },
    );
  };
}

/** `DELETE /v1/session` (sign out), behind authenticate: ends the session and clears the cookie. */
export function sessionRoutes(sessions: SessionStore): Router {
  const router = Router();
  router.delete('/session', async (req, res) => {
    const session = readSession(res);
    if (session) await sessions.remove(session.id);
    clearSessionCookie(req, res);
    res.status(204).end();
  });
  return router;
}
