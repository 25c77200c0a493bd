import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, ValidationError } from '../errors.ts';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Sends `error` as application/problem+json; an unknown error is a 500 without any detail of it. */
export function sendProblem(res: Response, error: unknown): void {
  const problem = toProblem(error);
  res.locals.problemCode = problem.code;
  if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="outpost"');
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** The problem document of an error. */
export function toProblem(error: unknown): Problem {
  const bodyParser = bodyParserProblem(error);
  if (bodyParser) return bodyParser;
  if (error instanceof AppError && error.status < 500) {
    return {
      ...(error.details ?? {}),
      type: `https://outpost.invalid/problems/${error.code}`,
      title: TITLES[error.status] ?? 'Error',
      status: error.status,
      detail: error.message,
      code: error.code,
      ...(error instanceof ValidationError ? { field: error.field } : {}),
    };
  }
  return {
    type: 'https://outpost.invalid/problems/internal',
    title: TITLES[500] ?? 'Internal Server Error',
    status: 500,
    detail: 'the server failed to handle the request; see its log',
    code: 'internal',
  };
}

/** Errors of express.json(): oversized (413) or unparsable (400) bodies. */
function bodyParserProblem(error: unknown): Problem | undefined {
  if (typeof error !== 'object' || error === null || error instanceof AppError) return undefined;
  const { type, limit } = error as { type?: unknown; limit?: unknown };
  if (type === 'entity.too.large') {
    return {
      type: 'https://outpost.invalid/problems/too_large',
      title: 'Content Too Large',
      status: 413,
      detail: `body: larger than the limit of ${String(limit)} bytes`,
      code: 'too_large',
      field: 'body',
    };
  }
  if (type === 'entity.parse.failed' || type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return {
      type: 'https://outpost.invalid/problems/invalid_input',
      title: 'Bad Request',
      status: 400,
      detail: 'body: not valid JSON',
      code: 'invalid_input',
      field: 'body',
    };
  }
  // Any other error body-parser marks safe to show (a gzip body that is not gzip): the client's fault.
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    return {
      type: 'https://outpost.invalid/problems/invalid_input',
      title: 'Bad Request',
      status: 400,
      detail: 'body: could not be read (check Content-Encoding and Content-Type)',
      code: 'invalid_input',
      field: 'body',
    };
  }
  return undefined;
}

/** The last middleware: every error becomes a problem document; 5xx are logged with their stack. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const problem = toProblem(error);
    if (problem.status >= 500)
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(res, error);
  };
}

/** 404 for any route that does not exist. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, new AppError('not_found', `no route ${req.method} ${req.path}`, { status: 404 }));
};
