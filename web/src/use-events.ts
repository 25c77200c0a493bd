import { useEffect, useRef } from 'preact/hooks';
import { openStream } from './sse.ts';

/** One event of `GET /v1/events` (registry changes, agent transitions, ... — the type list is open). */
export interface OutpostEvent {
  type: string;
  time: string;
  project: string | null;
  data: Record<string, unknown>;
}

/** Follows `GET /v1/events` while the component is shown; `onEvents` gets each batch, in order. */
export function useEvents(onEvents: (events: OutpostEvent[]) => void): void {
  const handler = useRef(onEvents);
  handler.current = onEvents;
  useEffect(() => {
    const stream = openStream('/v1/events', {
      onEvents: (batch) => {
        const parsed: OutpostEvent[] = [];
        for (const event of batch) {
          try {
            parsed.push(JSON.parse(event.data) as OutpostEvent);
          } catch {
            // A malformed event is skipped; the next reload shows the truth.
          }
        }
        handler.current(parsed);
      },
    });
    return () => stream.close();
  }, []);
}
