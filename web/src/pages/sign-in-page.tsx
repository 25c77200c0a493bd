import { useState } from 'preact/hooks';
import { signIn } from '../session.ts';
import type { Principal } from '../types.ts';

/** Sign-in: paste an API token once; the server answers with an HttpOnly session cookie. */
export function SignInPage(props: { onSignedIn(principal: Principal): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const principal = await signIn(token.trim());
      setToken('');
      props.onSignedIn(principal);
    } catch (caught) {
      setToken('');
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <form onSubmit={(event) => void submit(event)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Outpost</h1>
        <p class="hint">
          Paste an API token (on the server: <code>var/api.token</code>). It is exchanged for a session cookie
          and not kept by the browser.
        </p>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
