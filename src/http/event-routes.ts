import { z } from 'zod';
import { ValidationError, quote } from '../errors.ts';
import type { EventStore } from '../events/event-store.ts';
import { defineRoute, type Route } from './route.ts';
import { streamEvents } from './stream-events.ts';

/** An event id of a Redis Stream, `<ms>-<n>`. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const eventsQuery = z
  .object({ after: z.string().regex(STREAM_ID, 'expected an event id').optional() })
  .strict();
/** The Last-Event-ID header of an event stream. */
export const lastEventIdHeader = {
  name: 'Last-Event-ID',
  description: 'Resume after this event id (`<ms>-<n>`).',
  schema: z.string().regex(STREAM_ID),
};

/** The id a stream starts after: Last-Event-ID, else `?after=`, else `fallback`. */
export function readStartId(
  header: string | undefined,
  after: string | undefined,
  fallback: () => Promise<string>,
): Promise<string> {
  if (header !== undefined && !STREAM_ID.test(header))
    throw new ValidationError(
      'Last-Event-ID',
      `expected an event id like 1700000000000-0, got ${quote(header)}`,
    );
  return header !== undefined
    ? Promise.resolve(header)
    : after !== undefined
      ? Promise.resolve(after)
      : fallback();
}

/**
 * `GET /v1/events`: Outpost's events as SSE (registry changes, agent-state transitions, ...), live.
 * Resumable: `Last-Event-ID` (or `?after=`) replays what came after that id; without one, only new events.
 */
export function eventRoutes(
  events: EventStore,
  options: { heartbeatMs?: number; closing?: AbortSignal } = {},
): Route[] {
  return [
    defineRoute({
      name: 'streamEvents',
      method: 'get',
      path: '/v1/events',
      tag: 'console',
      summary: 'Outpost’s events, live',
      description:
        'Registry changes and agent-state transitions as server-sent events, resumable with `Last-Event-ID`. A project token gets its project’s events only.',
      access: { role: 'viewer', scope: 'own' },
      query: eventsQuery,
      headers: [lastEventIdHeader],
      ok: { status: 200, description: 'The events, live.', type: 'text/event-stream' },
      stream: true,
      async handle({ req, res, query, sees }) {
        const after = await readStartId(req.get('last-event-id'), query.after, () => events.lastId());
        await streamEvents(events, res, {
          after,
          sees,
          ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
          ...(options.closing ? { signal: options.closing } : {}),
        });
      },
    }),
  ];
}
