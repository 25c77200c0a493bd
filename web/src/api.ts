/** The console's one client of the Outpost API: same-origin, cookie session, CSRF header on changes. */

/** An RFC 9457 problem the API answered with. */
export interface Problem {
  status: number;
  title?: string;
  detail?: string;
  code?: string;
  field?: string;
}

/** A request the API refused: its status and the problem's words, fit to show a person. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.status = problem.status;
    this.problem = problem;
  }
}

let csrfToken: string | undefined;
let onSignedOut: (() => void) | undefined;

/** Remembers the session's CSRF token (kept in memory only, never in storage). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called whenever the API answers 401: the session ended (expired, signed out elsewhere). */
export function onUnauthorized(handler: () => void): void {
  onSignedOut = handler;
}

/** Calls the API; resolves the JSON answer (undefined for 204), rejects with an {@link ApiError}. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (cause) {
    throw new ApiError({ status: 0, detail: `the server did not answer (${(cause as Error).message})` });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    if (response.status === 401 && path !== '/v1/session') onSignedOut?.();
    const problem = (parsed ?? {}) as Partial<Problem>;
    throw new ApiError({ ...problem, status: response.status });
  }
  return parsed as T;
}

/** GET `path` with query parameters (empty values left out). */
export function get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const search = params.toString();
  return request<T>('GET', search ? `${path}?${search}` : path);
}

/** POST `body` to `path`. */
export function post<T>(path: string, body?: unknown): Promise<T> {
  return request<T>('POST', path, body ?? {});
}

/** GET `path` as text (an enrollment script). */
export async function getText(path: string): Promise<string> {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) {
    if (response.status === 401) onSignedOut?.();
    const problem = (await response.json().catch(() => ({}))) as Partial<Problem>;
    throw new ApiError({ ...problem, status: response.status });
  }
  return response.text();
}
