import { HostKeyChangedError } from './host-key-changed-error.ts';
import { sameKey } from './ssh-key-line.ts';

/**
 * Trust on first contact, then pin: `record` when nothing is pinned yet, `unchanged` when the
 * presented key is the pinned one; throws HostKeyChangedError otherwise.
 */
export function decidePin(
  kind: 'host' | 'proxy',
  name: string,
  pinned: string | undefined,
  presented: string,
): 'record' | 'unchanged' {
  if (pinned === undefined) return 'record';
  if (sameKey(pinned, presented)) return 'unchanged';
  throw new HostKeyChangedError(kind, name, { pinned, presented });
}
