/**
 * One error type for the whole service: a stable `code` a client can branch on, the HTTP status it
 * maps to, and the original error kept as `cause`. Subclasses exist only to name the common kinds.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra, non-secret facts for the client (e.g. which field was wrong). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details;
  }
}

/** Bad input: names the field and quotes the rejected value. */
export class ValidationError extends AppError {
  readonly field: string;
  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('invalid_input', `${field}: ${message}`, { status: 400, cause: options.cause, details: { field } });
    this.field = field;
  }
}

export class NotFoundError extends AppError {
  constructor(kind: string, id: string) {
    super('not_found', `${kind} ${JSON.stringify(id)} does not exist`, {
      status: 404,
      details: { kind, id },
    });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', message, { status: 409, details });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthorized', message, { status: 401 });
  }
}

/** Authenticated, but not allowed: a cross-site state change, or (issue 10) beyond the token's role. */
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message, { status: 403 });
  }
}

/** Configuration that cannot work: raised at start-up, before anything is opened. */
export class ConfigError extends AppError {
  constructor(variable: string, message: string) {
    super('bad_config', `${variable}: ${message}`, { details: { variable } });
  }
}

/** A value quoted for an error message: JSON-escaped and cut short so a huge value cannot flood a log. */
export function quote(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** An entity read back from the registry fails the checks it passed when written: it was tampered with, or damaged. */
export class CorruptEntityError extends AppError {
  constructor(kind: string, id: string, problem: string, options: { cause?: unknown; field?: string } = {}) {
    super(
      'corrupt_entity',
      `${kind} ${JSON.stringify(id)} in the registry is invalid: ${problem}; fix it (PATCH) or delete it`,
      {
        status: 409,
        cause: options.cause,
        details: { kind, id, ...(options.field ? { field: options.field } : {}) },
      },
    );
  }
}
