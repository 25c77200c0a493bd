import { request, setCsrfToken } from './api.ts';
import type { Principal } from './types.ts';

interface SessionAnswer {
  principal: Principal | null;
  csrf?: string;
  expiresAt?: string;
}

/** Who is signed in (from the session cookie), or undefined when nobody is. */
export async function loadSession(): Promise<Principal | undefined> {
  try {
    const answer = await request<SessionAnswer>('GET', '/v1/session');
    setCsrfToken(answer.csrf);
    return answer.principal ?? undefined;
  } catch {
    return undefined;
  }
}

/** Exchanges a pasted API token for a session cookie; the token goes in the body, nowhere else. */
export async function signIn(token: string): Promise<Principal> {
  const answer = await request<SessionAnswer>('POST', '/v1/session', { token });
  if (!answer.principal) throw new Error('the server did not open a session');
  setCsrfToken(answer.csrf);
  return answer.principal;
}

/** Ends the session on the server and forgets the CSRF token. */
export async function signOut(): Promise<void> {
  try {
    await request('DELETE', '/v1/session');
  } finally {
    setCsrfToken(undefined);
  }
}
