import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../errors.ts';

/** Requires `Authorization: Bearer <token>`; compares digests in constant time. */
export function requireToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (!match?.[1]) {
      next(new UnauthorizedError());
      return;
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      next(new UnauthorizedError('the bearer token is not valid'));
      return;
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
