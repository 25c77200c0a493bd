import type { LogEntry } from '../logs/log-entry.ts';
import type { ApiClient } from './api-client.ts';

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
      for await (const entry of readSse(response)) {
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

/** Parses a text/event-stream body into the log entries it carries. */
async function* readSse(response: Response): AsyncGenerator<LogEntry> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) yield JSON.parse(data) as LogEntry;
    }
  }
}
