import { z } from 'zod';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { describeCrossSite, readSession } from './authenticate.ts';
import { defineRoute, type Route } from './route.ts';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from './session-cookie.ts';
import type { SessionStore } from './session-store.ts';
import type { TokenResolver } from './token-resolver.ts';

const signInBody = z.object({ token: z.string().min(1).max(4096) }).strict();

/**
 * The console's session: `POST /v1/session` signs in (a token for an HttpOnly session cookie; the token
 * is read from the body only, never logged or echoed), `GET /v1/session` says who is signed in, both open
 * to anyone; `DELETE /v1/session` signs out.
 */
export function sessionRoutes(resolveToken: TokenResolver, sessions: SessionStore): Route[] {
  return [
    defineRoute({
      name: 'signIn',
      method: 'post',
      path: '/v1/session',
      tag: 'session',
      summary: 'Sign in to the console with a token',
      description:
        'Answers an HttpOnly, SameSite=Strict session cookie and the CSRF token its changes carry.',
      access: { public: true },
      body: signInBody,
      ok: { status: 201, description: 'Who signed in, the CSRF token, when the session ends.' },
      action: 'session.create',
      async handle({ req, res, body }) {
        const crossSite = describeCrossSite(req);
        if (crossSite) throw new ForbiddenError(`refused a sign-in from another site: ${crossSite}`);
        const principal = await resolveToken.resolve(body.token);
        if (!principal) throw new UnauthorizedError('that token is not valid: check it and paste it again');
        res.locals.principal = principal;
        const { id, session } = await sessions.create(principal);
        writeSessionCookie(req, res, id, sessions.ttlSeconds);
        res.status(201).json({ principal, csrf: session.csrf, expiresAt: session.expiresAt });
      },
    }),
    defineRoute({
      name: 'whoAmI',
      method: 'get',
      path: '/v1/session',
      tag: 'session',
      summary: 'Who is signed in with the session cookie',
      description: '`{ "principal": null }` when nobody is (or the session’s token was revoked).',
      access: { public: true },
      ok: { status: 200, description: 'The principal, the CSRF token and when the session ends.' },
      async handle({ req, res }) {
        const id = readSessionCookie(req);
        const session = id === undefined ? undefined : await sessions.get(id);
        // The token may have been revoked since: the session shows who it is now, or nobody.
        const principal = session ? await resolveToken.byId(session.principal.tokenId) : undefined;
        res.setHeader('Cache-Control', 'no-store');
        res.json(
          session && principal
            ? { principal, csrf: session.csrf, expiresAt: session.expiresAt }
            : { principal: null },
        );
      },
    }),
    defineRoute({
      name: 'signOut',
      method: 'delete',
      path: '/v1/session',
      tag: 'session',
      summary: 'Sign out: end the session and clear its cookie',
      access: { role: 'viewer', scope: 'own' },
      ok: { status: 204, description: 'Signed out.' },
      action: 'session.delete',
      async handle({ req, res }) {
        const session = readSession(res);
        if (session) await sessions.remove(session.id);
        clearSessionCookie(req, res);
        res.status(204).end();
      },
    }),
  ];
}
