import { AppError } from '../errors.ts';

/** Where the CLI finds the API and its token. */
export interface ClientSettings {
  url: string;
  token: string | undefined;
}

/** A thin client of the Outpost HTTP API; problem+json answers become AppErrors with their detail. */
export class ApiClient {
  readonly settings: ClientSettings;

  constructor(settings: ClientSettings) {
    this.settings = settings;
  }

  /** Sends a request; resolves to the parsed JSON body (undefined for 204). */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(path, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('json') ? JSON.parse(text) : text) as T;
  }

  /** A raw fetch with the token; throws an AppError for any 4xx/5xx. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.settings.token) headers.set('authorization', `Bearer ${this.settings.token}`);
    let response: Response;
    try {
      response = await fetch(new URL(path, this.settings.url), { ...init, headers });
    } catch (cause) {
      throw new AppError('unreachable', `cannot reach the Outpost API at ${this.settings.url}`, { cause });
    }
    if (response.ok) return response;
    const text = await response.text();
    let detail = text;
    try {
      const problem = JSON.parse(text) as { detail?: string };
      detail = problem.detail ?? text;
    } catch {
      // Not problem+json: show the text.
    }
    throw new AppError('api_error', `${response.status}: ${detail}`, { status: response.status });
  }
}
