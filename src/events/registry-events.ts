import type { RegistryWrite } from '../domain/registry-write.ts';
import type { NewEvent } from './event-store.ts';

interface AgentLike {
  project?: string;
  agent?: {
    state?: string;
    reason?: string;
    lastSeen?: string;
    uplink?: string;
    since?: string;
    cause?: string;
  };
}

/**
 * The events a registry write publishes: one `<kind>` event carrying the entity as it now is, and an
 * `agent` event when an update changed a host's agent state.
 */
export function listRegistryEvents(change: RegistryWrite): NewEvent[] {
  const entity = (change.after ?? change.before ?? {}) as AgentLike & { id?: string };
  const project = change.kind === 'project' ? change.id : entity.project;
  const events: NewEvent[] = [
    {
      type: change.kind,
      ...(project ? { project } : {}),
      data: {
        action: change.action,
        id: change.id,
        ...(change.after ? { [change.kind]: change.after } : {}),
      },
    },
  ];
  if (change.kind === 'host' && change.action === 'updated') {
    const from = (change.before as AgentLike | undefined)?.agent?.state;
    const to = (change.after as AgentLike | undefined)?.agent;
    if (to?.state !== undefined && to.state !== from) {
      events.push({
        type: 'agent',
        ...(project ? { project } : {}),
        data: {
          host: change.id,
          from: from ?? null,
          to: to.state,
          ...(to.reason ? { reason: to.reason } : {}),
          ...(to.uplink ? { uplink: to.uplink } : {}),
          // Set by the agent watch: when it changed and why it went silent.
          ...(to.since ? { since: to.since } : {}),
          ...(to.cause ? { cause: to.cause } : {}),
        },
      });
    }
  }
  return events;
}
