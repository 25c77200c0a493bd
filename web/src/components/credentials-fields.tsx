/** What a person gives once to log in to VMs: an account and its password or private key. */
export interface Credentials {
  user: string;
  way: 'password' | 'key';
  secret: string;
}

/** The account, password / private key fields; the secret is never shown back (a password input or a blanked textarea). */
export function CredentialsFields(props: {
  value: Credentials;
  onChange(value: Credentials): void;
  idPrefix: string;
}) {
  const { value } = props;
  const id = (name: string): string => `${props.idPrefix}-${name}`;
  return (
    <fieldset class="credentials">
      <legend>Existing account on the VMs</legend>
      <label for={id('user')}>User</label>
      <input
        id={id('user')}
        autocomplete="off"
        value={value.user}
        onInput={(event) => props.onChange({ ...value, user: event.currentTarget.value })}
      />
      <div role="radiogroup" aria-label="Log in with">
        <label class="check">
          <input
            type="radio"
            name={id('way')}
            checked={value.way === 'password'}
            onChange={() => props.onChange({ ...value, way: 'password', secret: '' })}
          />
          Use a password
        </label>
        <label class="check">
          <input
            type="radio"
            name={id('way')}
            checked={value.way === 'key'}
            onChange={() => props.onChange({ ...value, way: 'key', secret: '' })}
          />
          Use a private key
        </label>
      </div>
      {value.way === 'password' ? (
        <>
          <label for={id('secret')}>Password</label>
          <input
            id={id('secret')}
            type="password"
            autocomplete="new-password"
            value={value.secret}
            onInput={(event) => props.onChange({ ...value, secret: event.currentTarget.value })}
          />
        </>
      ) : (
        <>
          <label for={id('secret')}>Private key (PEM / OpenSSH)</label>
          <textarea
            id={id('secret')}
            class="mono secret"
            rows={5}
            spellcheck={false}
            autocomplete="off"
            value={value.secret}
            onInput={(event) => props.onChange({ ...value, secret: event.currentTarget.value })}
          />
        </>
      )}
    </fieldset>
  );
}

/** The `credentials` of a job body. */
export function toJobCredentials(value: Credentials): Record<string, string> {
  return {
    ...(value.user.trim() ? { user: value.user.trim() } : {}),
    ...(value.way === 'password' ? { password: value.secret } : { privateKey: value.secret }),
  };
}
