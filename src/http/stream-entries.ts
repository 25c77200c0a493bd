import { once } from 'node:events';
import type { Response } from 'express';
import { logBatch, type LogBatch } from '../logs/log-batch.ts';
import type { LogEntry } from '../logs/log-entry.ts';
import type { LogFanout } from '../logs/log-fanout.ts';
import type { LogStore } from '../logs/log-store.ts';

/** How entries are written to the client. */
export type StreamFormat = 'sse' | 'ndjson' | 'text';

/** Options of {@link streamEntries}. */
export interface StreamOptions {
  format: StreamFormat;
  /** Entries after this sequence are sent. */
  afterSeq: number;
  /** Keep the response open for live entries until the end entry. */
  follow: boolean;
  /** SSE comment line interval. Default 15000 ms. */
  heartbeatMs?: number;
  onSent?: (count: number) => void;
  /** Ends the stream when aborted (the service stops); the client resumes by Last-Event-ID elsewhere or later. */
  signal?: AbortSignal;
}

const CONTENT_TYPES: Record<StreamFormat, string> = {
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

/**
 * Writes a job's log entries to `res` in order, from `afterSeq`, live when following (through the node's
 * shared {@link LogFanout}). Each batch is rendered once for all clients and written with one `write`.
 * Waits for 'drain' when the client is slow: entries are never dropped, the client falls behind and
 * catches up from Redis.
 */
export async function streamEntries(
  logs: LogStore,
  fanout: LogFanout,
  jobId: string,
  res: Response,
  options: StreamOptions,
): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  res.on('close', stop);
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  res.status(200);
  res.setHeader('Content-Type', CONTENT_TYPES[options.format]);
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let heartbeat: NodeJS.Timeout | undefined;
  if (options.format === 'sse') {
    res.write(': outpost log stream\nretry: 1000\n\n');
    heartbeat = setInterval(() => res.write(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
  }
  try {
    const batches = options.follow
      ? fanout.follow(jobId, options.afterSeq, controller.signal)
      : readAll(logs, jobId, options.afterSeq);
    for await (const batch of batches) {
      if (controller.signal.aborted) break;
      const { chunk, count } = renderBatch(batch, options.format);
      if (count === 0) continue;
      options.onSent?.(count);
      if (!res.write(chunk)) await drained(res, controller.signal);
    }
  } finally {
    clearInterval(heartbeat);
    res.off('close', stop);
    options.signal?.removeEventListener('abort', stop);
    if (!res.writableEnded) res.end();
  }
}

async function* readAll(logs: LogStore, jobId: string, afterSeq: number): AsyncGenerator<LogBatch> {
  let last = afterSeq;
  for (;;) {
    const entries = await logs.read(jobId, last, 256);
    const final = entries.at(-1);
    if (!final) return;
    last = final.seq;
    yield logBatch(entries);
  }
}

/** The batch in `format` as one chunk, rendered once per batch and format whatever the client count. */
function renderBatch(batch: LogBatch, format: StreamFormat): { chunk: string; count: number } {
  let rendered = batch.rendered.get(format);
  if (!rendered) {
    let chunk = '';
    let count = 0;
    for (const entry of batch.entries) {
      const text = render(entry, format);
      if (text === undefined) continue;
      chunk += text;
      count += 1;
    }
    rendered = { chunk, count };
    batch.rendered.set(format, rendered);
  }
  return rendered;
}

function render(entry: LogEntry, format: StreamFormat): string | undefined {
  if (format === 'text')
    return entry.type === 'stdout' ? `${entry.slice ? `[${entry.slice}] ` : ''}${entry.data}\n` : undefined;
  if (format === 'ndjson') return `${JSON.stringify(entry)}\n`;
  return `id: ${entry.seq}\nevent: ${entry.type}\ndata: ${JSON.stringify(entry)}\n\n`;
}

async function drained(res: Response, signal: AbortSignal): Promise<void> {
  try {
    await once(res, 'drain', { signal });
  } catch {
    // The client went away; the caller sees the aborted signal.
  }
}
