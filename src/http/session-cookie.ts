import type { CookieOptions, Request, Response } from 'express';

/** Name of the console's session cookie. */
export const SESSION_COOKIE = 'outpost_session';

/** The session id in the request's Cookie header, if any. */
export function readSessionCookie(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=');
  }
  return undefined;
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure behind TLS, for `maxAgeSeconds`. */
export function writeSessionCookie(req: Request, res: Response, id: string, maxAgeSeconds: number): void {
  res.cookie(SESSION_COOKIE, id, { ...cookieOptions(req), maxAge: maxAgeSeconds * 1000 });
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions(req));
}

function cookieOptions(req: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' };
}
