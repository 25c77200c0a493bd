import { once } from 'node:events';
import type { Response } from 'express';
import type { EventStore, OutpostEvent } from '../events/event-store.ts';

/** Options of {@link streamEvents}. */
export interface EventStreamOptions {
  /** Send what came after this id, then live ones. */
  after: string;
  /** Whether the reader may see an event of this project (undefined: an event of no project). */
  sees: (project: string | undefined) => boolean;
  heartbeatMs?: number;
  /** Aborted when the service stops. */
  signal?: AbortSignal;
}

/**
 * Writes `store`'s events after `after` to `res` as SSE, live, until the client goes (or the service
 * stops), showing only what `sees` allows. Each event is `{type, time, project, data}`, its id the
 * stream id a client resumes from with Last-Event-ID.
 */
export async function streamEvents(
  store: EventStore,
  res: Response,
  options: EventStreamOptions,
): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  res.on('close', stop);
  options.signal?.addEventListener('abort', stop, { once: true });
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  // The id of the point the stream starts at, so a client that reconnects before any event resumes there.
  res.write(`: outpost events\nretry: 1000\nid: ${options.after}\n\n`);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
  try {
    for await (const batch of store.follow(options.after, controller.signal)) {
      const chunk = render(batch, options.sees);
      if (chunk !== '' && !res.write(chunk)) await drained(res, controller.signal);
    }
  } finally {
    clearInterval(heartbeat);
    res.off('close', stop);
    options.signal?.removeEventListener('abort', stop);
    if (!res.writableEnded) res.end();
  }
}

/** An event as the API shows it (the data is already JSON text). */
export function renderEvent(event: OutpostEvent): string {
  return `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"time":${JSON.stringify(event.time)},"project":${JSON.stringify(event.project ?? null)},"data":${event.data}}`;
}

function render(batch: OutpostEvent[], sees: (project: string | undefined) => boolean): string {
  let chunk = '';
  for (const event of batch) {
    if (!sees(event.project)) continue;
    chunk += `id: ${event.id}\nevent: ${event.type}\ndata: ${renderEvent(event)}\n\n`;
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
