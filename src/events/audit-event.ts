import type { NewEvent } from './event-store.ts';

/** Who did something: a token's id and name (never the token), or null when no valid token came. */
export interface AuditActor {
  tokenId: string;
  name: string;
  scope?: string;
  role?: string;
}

/** One entry of the audit trail: who, what, on which objects, and how it ended. When is the event's time. */
export interface AuditEntry {
  /** What was done: `job.submit`, `host.delete`, `token.create`, `job.end`... */
  action: string;
  who: AuditActor | null;
  /** The objects, as `kind:id`. */
  objects: string[];
  /** `ok`, `refused` (401/403/404), `failed` (other errors), or a job's final status. */
  outcome: string;
  /** The HTTP status, and the problem code when it was refused or failed. */
  status?: number;
  code?: string;
  /** The request, as method and path (no query, no body). */
  method?: string;
  path?: string;
}

/**
 * The event an audit entry is published as. `project` is whose admins see it: the project it acted on,
 * else the project of a project-scoped token (its own refused tries stay its own), else none (`*` only).
 */
export function toAuditEvent(entry: AuditEntry, project: string | undefined): NewEvent {
  const owner = project ?? (entry.who?.scope && entry.who.scope !== '*' ? entry.who.scope : undefined);
  return { type: 'audit', ...(owner ? { project: owner } : {}), data: entry };
}
