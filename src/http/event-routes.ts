import { once } from 'node:events';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { ValidationError, quote } from '../errors.ts';
import type { EventStore, OutpostEvent } from '../events/event-store.ts';
import { readPrincipal } from './authenticate.ts';
import { parseInput } from './parse-input.ts';
import type { Principal } from './principal.ts';

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const eventsQuery = z
  .object({ after: z.string().regex(STREAM_ID, 'expected an event id').optional() })
  .strict();

/**
 * `GET /v1/events`: Outpost's events as SSE (registry changes, agent-state transitions, ...), live.
 * Resumable: `Last-Event-ID` (or `?after=`) replays what came after that id; without one, only new events.
 */
export function eventRoutes(events: EventStore, options: { heartbeatMs?: number } = {}): Router {
  const router = Router();
  router.get('/events', async (req, res) => {
    const query = parseInput(eventsQuery, req.query, 'query');
    const header = req.get('last-event-id');
    if (header !== undefined && !STREAM_ID.test(header))
      throw new ValidationError(
        'Last-Event-ID',
        `expected an event id like 1700000000000-0, got ${quote(header)}`,
      );
    const after = header ?? query.after ?? (await events.lastId());
    const principal = readPrincipal(res);
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // The id of the point the stream starts at, so a client that reconnects before any event resumes there.
    res.write(`: outpost events\nretry: 1000\nid: ${after}\n\n`);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
    try {
      for await (const batch of events.follow(after, controller.signal)) {
        const chunk = render(batch, principal);
        if (chunk !== '' && !res.write(chunk)) await drained(res, controller.signal);
      }
    } finally {
      clearInterval(heartbeat);
      if (!res.writableEnded) res.end();
    }
  });
  return router;
}

/** The SSE blocks of the events `principal` may see (its scope's project, or all for `*`). */
function render(batch: OutpostEvent[], principal: Principal): string {
  let chunk = '';
  for (const event of batch) {
    if (principal.scope !== '*' && event.project !== principal.scope) continue;
    const body = `{"type":${JSON.stringify(event.type)},"time":${JSON.stringify(event.time)},"project":${JSON.stringify(event.project ?? null)},"data":${event.data}}`;
    chunk += `id: ${event.id}\nevent: ${event.type}\ndata: ${body}\n\n`;
  }
  return chunk;
}

async function drained(res: Response, signal: AbortSignal): Promise<void> {
  try {
    await once(res, 'drain', { signal });
  } catch {
    // The client went away; the loop sees the aborted signal.
  }
}
