/** Variables of the service's environment a child process may inherit: none holds a secret. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'] as const;

/**
 * The whole environment of a child process (ansible-playbook, ssh): `own` over the few inherited
 * variables it needs to run, so no secret of the service (OUTPOST_MASTER_KEY, OUTPOST_API_TOKEN, the
 * InfluxDB token or password), no ssh agent (SSH_AUTH_SOCK) and no stray ANSIBLE_* reaches it or the
 * local tasks and ProxyCommands it starts. Pass it with execa's `extendEnv: false`.
 */
export function childEnv(
  own: Record<string, string> = {},
  source: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const name of INHERITED) {
    const value = source[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return { ...env, ...own };
}
