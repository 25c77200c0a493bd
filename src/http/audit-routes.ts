import { z } from 'zod';
import type { EventStore } from '../events/event-store.ts';
import { lastEventIdHeader, readStartId, STREAM_ID } from './event-routes.ts';
import { defineRoute, type Route } from './route.ts';
import { renderEvent, streamEvents } from './stream-events.ts';

const auditQuery = z
  .object({
    after: z.string().regex(STREAM_ID, 'expected an entry id').optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
  })
  .strict();

/**
 * `GET /v1/audit`: the audit trail, oldest first: the last `limit` entries, or those after `after`; with
 * `Accept: text/event-stream`, live from there. A project admin sees its project's entries only.
 */
export function auditRoutes(
  audit: EventStore,
  options: { heartbeatMs?: number; closing?: AbortSignal } = {},
): Route[] {
  return [
    defineRoute({
      name: 'readAudit',
      method: 'get',
      path: '/v1/audit',
      tag: 'audit',
      summary: 'The audit trail',
      description:
        'Who (token id and name) did what, on which objects, when, and how it ended: every state-changing request, every refused one and every job’s end. Oldest first; `Accept: text/event-stream` follows it live.',
      access: { role: 'admin', scope: 'own' },
      query: auditQuery,
      headers: [lastEventIdHeader],
      ok: [
        { status: 200, description: 'Entries, oldest first.' },
        { status: 200, description: 'Entries, live.', type: 'text/event-stream' },
      ],
      stream: true,
      async handle({ req, res, query, sees }) {
        if ((req.get('accept') ?? '').includes('text/event-stream')) {
          const after = await readStartId(req.get('last-event-id'), query.after, () => audit.lastId());
          await streamEvents(audit, res, {
            after,
            sees,
            ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
            ...(options.closing ? { signal: options.closing } : {}),
          });
          return;
        }
        // Read past what this reader may not see, so `limit` counts its own entries.
        const entries = query.after ? await audit.read(query.after, 10_000) : await audit.tail(10_000);
        const shown = entries.filter((entry) => sees(entry.project));
        const page = query.after ? shown.slice(0, query.limit) : shown.slice(-query.limit);
        res.type('application/json').send(`[${page.map(renderEvent).join(',')}]`);
      },
    }),
  ];
}
