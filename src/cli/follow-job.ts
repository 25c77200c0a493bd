import type { LogEntry } from '../logs/log-entry.ts';
import type { ApiClient } from './api-client.ts';
import { readSse } from './read-sse.ts';

/** Options of {@link followJob}. */
export interface FollowOptions {
  /** Every entry, in order, exactly once across reconnects. */
  onEntry: (entry: LogEntry) => void;
  /** Called before a reconnect after a dropped stream. */
  onReconnect?: (lastSeq: number, error: unknown) => void;
  /** Give up after this long without a working stream. Default 120000 ms. */
  giveUpAfterMs?: number;
}

/**
 * Follows a job's SSE stream to its end entry, reconnecting with `Last-Event-ID` when the connection
 * drops; resolves to the job's final status.
 */
export async function followJob(client: ApiClient, jobId: string, options: FollowOptions): Promise<string> {
  let lastSeq = 0;
  let failingSince: number | undefined;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await client.fetch(`/v1/jobs/${encodeURIComponent(jobId)}/events`, {
        headers: {
          accept: 'text/event-stream',
          ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}),
        },
      });
      failingSince = undefined;
      for await (const message of readSse(response)) {
        const entry = JSON.parse(message.data) as LogEntry;
        if (entry.seq <= lastSeq) continue;
        lastSeq = entry.seq;
        options.onEntry(entry);
        if (entry.type === 'end') return (JSON.parse(entry.data) as { status: string }).status;
      }
      throw new Error('the event stream ended before the job did');
    } catch (error) {
      if (error instanceof Error && 'status' in error && Number(error.status) < 500) throw error;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > (options.giveUpAfterMs ?? 120_000)) throw error;
      options.onReconnect?.(lastSeq, error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * 2 ** Math.min(attempt, 5))));
    }
  }
}
