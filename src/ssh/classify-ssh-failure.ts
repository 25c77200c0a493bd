import type { WayFailure } from '../domain/host.ts';
import { explainSshFailure } from './explain-ssh-failure.ts';

/** A proxy a connection went through: named when the failure happened on the way to it. */
export interface ViaProxy {
  id: string;
  publicAddress: string;
  sshPort: number;
}

/** Why one ssh attempt failed, as a code and one line for a person. */
export interface SshFailure {
  reason: WayFailure;
  detail: string;
}

// First match wins: a key problem before a refusal, a refusal before the timeout that may follow it.
const CAUSES: Array<[RegExp, WayFailure, string]> = [
  [
    /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/,
    'host-key-changed',
    'host key changed',
  ],
  [/Host key verification failed|not its pinned key/, 'host-key-changed', 'host key verification failed'],
  [/Connection refused|ECONNREFUSED/i, 'refused', 'connection refused'],
  [
    /No route to host|Network is unreachable|EHOSTUNREACH|ENETUNREACH|Could not resolve/i,
    'no-route',
    'no route',
  ],
  [
    /Permission denied|Too many authentication failures|authentication methods failed/i,
    'auth-failed',
    'authentication as cloudroot failed',
  ],
  [/timed out|Connection timeout|ETIMEDOUT|not connected after/i, 'timeout', 'timed out'],
];

/**
 * Reads ssh's stderr of a failed login (exit 255), or a tunnel keeper error, and says why, naming the
 * proxy when the failure was on the way to it (its address in "connect to host", its alias in a host
 * key message).
 */
export function classifySshFailure(stderr: string, via?: ViaProxy): SshFailure {
  const text = stderr.replace(/\r/g, '');
  const [, cause = 'error', words = 'ssh failed'] = CAUSES.find(([pattern]) => pattern.test(text)) ?? [];
  const explained = explainSshFailure(text);
  // ssh names the proxy by its address when it cannot connect to it, by its alias on a key problem.
  const atProxy =
    via !== undefined &&
    (text.includes(`connect to host ${via.publicAddress} port ${via.sshPort}`) ||
      text.includes(`proxy.${via.id}`));
  const where = !via
    ? ''
    : atProxy
      ? `proxy ${JSON.stringify(via.id)} (${via.publicAddress}:${via.sshPort}): `
      : `through proxy ${JSON.stringify(via.id)}: `;
  const said = lastLines(text);
  const detail =
    explained && cause === 'host-key-changed'
      ? explained.message
      : `${where}${words}${said ? ` — ${said}` : ''}`;
  return { reason: cause, detail: oneLine(detail) };
}

/** The last meaningful lines of ssh's stderr, joined. */
function lastLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(
      (line) =>
        line !== '' &&
        !line.startsWith('@') &&
        !/^(Warning: Permanently added|IT IS POSSIBLE|Someone could|It is also possible|The fingerprint|SHA256:|Please contact|Add correct host key|Offending|Host key for|ECDSA|ED25519)/.test(
          line,
        ),
    )
    .slice(-2)
    .join('; ');
}

/** One printable line of at most 500 characters. */
export function oneLine(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trim()
      .slice(0, 500)
  );
}
