import type { Host, Reach } from './host.ts';

/** The reach actually used: the host's own choice, else `jump` behind a proxy and `direct` otherwise. */
export function reachOf(host: Pick<Host, 'reach'>, proxy: unknown): Reach {
  return host.reach ?? (proxy ? 'jump' : 'direct');
}
