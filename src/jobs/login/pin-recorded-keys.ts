import { HostKeyChangedError } from '../../domain/host-key-changed-error.ts';
import type { LogWriter } from '../../logs/log-writer.ts';
import type { Registry } from '../../registry/registry.ts';

/**
 * Pins host keys recorded at first contact (known_hosts aliases `<host>` and `proxy.<id>`) in the
 * registry. A key that differs from one pinned meanwhile is logged and left unpinned.
 * Resolves alias -> `recorded` | `unchanged` | `changed`.
 */
export async function pinRecordedKeys(
  registry: Registry,
  recorded: Map<string, string>,
  log: LogWriter,
  only?: Set<string>,
): Promise<Map<string, 'recorded' | 'unchanged' | 'changed'>> {
  const outcome = new Map<string, 'recorded' | 'unchanged' | 'changed'>();
  for (const [alias, key] of recorded) {
    if (only && !only.has(alias)) continue;
    const [kind, id] = alias.startsWith('proxy.')
      ? (['proxy', alias.slice(6)] as const)
      : (['host', alias] as const);
    try {
      const pinned = await registry.pinHostKey(kind, id, key);
      outcome.set(alias, pinned);
      if (pinned === 'recorded')
        log.write('stdout', `outpost: pinned the host key of ${kind} ${id} (${key.split(' ')[0] ?? ''})`);
    } catch (error) {
      if (!(error instanceof HostKeyChangedError)) throw error;
      outcome.set(alias, 'changed');
      log.write('stdout', `outpost: ${error.message}`);
    }
  }
  return outcome;
}
