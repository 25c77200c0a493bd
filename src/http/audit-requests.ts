import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { toAuditEvent, type AuditEntry } from '../events/audit-event.ts';
import type { NewEvent } from '../events/event-store.ts';
import type { RequestAudit } from './mount-route.ts';
import type { Principal } from './principal.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Where audit entries go (the `audit` EventStore). */
export interface AuditSink {
  publish(events: readonly NewEvent[]): Promise<unknown>;
}

/**
 * Records every state-changing request, and every read refused for its role (403), in the audit trail
 * once it is answered: the token's id and name, the route's action and objects, the status. Mounted
 * first, so requests refused before any route (401) are recorded too. Bodies and queries never are.
 */
export function auditRequests(sink: AuditSink, logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => {
      if (SAFE_METHODS.has(req.method) && res.statusCode !== 403) return;
      const principal = res.locals.principal as Principal | undefined;
      const route = res.locals.audit as RequestAudit | undefined;
      const code = res.locals.problemCode as string | undefined;
      const status = res.statusCode;
      const entry: AuditEntry = {
        action: route?.action ?? `${req.method.toLowerCase()} ${req.path}`,
        who: principal
          ? { tokenId: principal.tokenId, name: principal.name, scope: principal.scope, role: principal.role }
          : null,
        objects: route?.objects ?? [],
        outcome: status < 400 ? 'ok' : [401, 403, 404].includes(status) ? 'refused' : 'failed',
        status,
        ...(code ? { code } : {}),
        method: req.method,
        path: req.path.slice(0, 300),
      };
      // An entry that cannot be written must not fail the request it records; it is logged instead.
      sink
        .publish([toAuditEvent(entry, route?.project)])
        .catch((error: unknown) =>
          logger.error({ err: error, action: entry.action }, 'audit entry not recorded'),
        );
    });
    next();
  };
}
