import type { RequestHandler } from 'express';
import { AppError, quote } from '../errors.ts';

/** Media types a request body may have. */
export const ACCEPTED_TYPES = ['application/json'];

/**
 * Answers 415 to a request that carries a body of another media type (a form, YAML, text), naming the
 * types accepted, instead of letting the body go unread and the route report a missing field.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  // An empty body (Content-Length: 0, as fetch sends on a bare POST) has no media type to check.
  const empty = req.get('transfer-encoding') === undefined && Number(req.get('content-length') ?? 0) === 0;
  if (empty || req.is(ACCEPTED_TYPES) !== false) {
    next();
    return;
  }
  const given = req.get('content-type');
  next(
    new AppError(
      'unsupported_media_type',
      `Content-Type: expected ${ACCEPTED_TYPES.join(' or ')}, got ${given === undefined ? 'none' : quote(given)}`,
      { status: 415, details: { field: 'Content-Type', accepted: ACCEPTED_TYPES } },
    ),
  );
};
