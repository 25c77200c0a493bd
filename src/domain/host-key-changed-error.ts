import { AppError } from '../errors.ts';
import { fingerprint } from './ssh-key-line.ts';

/**
 * A host or proxy presented a key other than the pinned one, whoever noticed (ssh through an
 * inventory, or the tunnel keeper's ssh2). The message names it, both fingerprints when known, and
 * the command that accepts the new key on purpose; it never suggests turning checking off.
 */
export class HostKeyChangedError extends AppError {
  readonly host: string;
  constructor(kind: 'host' | 'proxy', name: string, seen?: { pinned: string; presented: string }) {
    const detail = seen
      ? ` (pinned ${fingerprint(seen.pinned)}, presented ${fingerprint(seen.presented)})`
      : '';
    super(
      'host_key_changed',
      `${kind} ${JSON.stringify(name)}: its SSH host key changed since it was pinned${detail}; ` +
        `Outpost refuses to connect. If the VM was rebuilt or its key was replaced on purpose, ` +
        `accept the new key with: outpost ${kind} rekey ${name}`,
      { status: 409, details: { kind, name } },
    );
    this.host = name;
  }
}
