import { AppError } from '../errors.ts';
import { HostKeyChangedError } from '../domain/host-key-changed-error.ts';

/**
 * Turns ssh's own words (an Ansible `unreachable` message or ssh stderr) about host keys into an
 * Outpost error that names the host or proxy and says what to do; undefined for other failures.
 * `fallbackName` is used when ssh's text names no alias.
 */
export function explainSshFailure(text: string, fallbackName?: string): AppError | undefined {
  const named = /Host key for (\S+) has changed/.exec(text);
  if (named || text.includes('REMOTE HOST IDENTIFICATION HAS CHANGED')) {
    const { kind, name } = fromAlias(named?.[1] ?? fallbackName ?? 'unknown');
    return new HostKeyChangedError(kind, name);
  }
  const unknown = /No \S+ host key is known for (\S+) and you have requested strict checking/.exec(text);
  if (unknown) {
    const { kind, name } = fromAlias(unknown[1] ?? fallbackName ?? 'unknown');
    return new AppError(
      'host_key_unknown',
      `${kind} ${JSON.stringify(name)}: no host key is pinned yet; probe or enroll it first so Outpost records its key`,
      { status: 409, details: { kind, name } },
    );
  }
  return undefined;
}

function fromAlias(alias: string): { kind: 'host' | 'proxy'; name: string } {
  return alias.startsWith('proxy.')
    ? { kind: 'proxy', name: alias.slice('proxy.'.length) }
    : { kind: 'host', name: alias };
}
