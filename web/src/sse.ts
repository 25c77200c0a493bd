/**
 * The console's one SSE helper: reads `text/event-stream` through fetch (batches of events per network
 * chunk, so 200,000 log entries parse in one pass) and, when the connection drops, reconnects with
 * `Last-Event-ID` so nothing is missed or repeated.
 */

/** One event as received. */
export interface SseEvent {
  id: string | undefined;
  type: string;
  data: string;
}

/** Options of {@link openStream}. */
export interface StreamOptions {
  /** Resume after this id (as Last-Event-ID). */
  lastEventId?: string;
  /** Every batch of events parsed from one network chunk, in order. */
  onEvents(events: SseEvent[]): void;
  /** The connection is (re)established. */
  onOpen?(): void;
  /** The connection dropped; it is retried after the server's `retry:` delay. */
  onDrop?(reason: string): void;
  /** Stop for good on this event type (a job's `end`). */
  endOn?: string;
  /** Stop for good before the first event this is true of (it is not delivered). */
  stopBefore?(event: SseEvent): boolean;
  /** Called once when the stream stopped by `endOn` or `stopBefore`. */
  onDone?(): void;
  /** An HTTP error that is not worth retrying (401, 404). */
  onFatal?(status: number): void;
}

/** A live stream; `close` stops it and any reconnect. */
export interface Stream {
  close(): void;
  /** The id of the last event seen. */
  lastEventId(): string | undefined;
  /** Drops the connection now; it resumes as after any drop (used by people and tests alike). */
  reconnect(): void;
}

/** Opens `url` and keeps it open until closed or `endOn` arrives. */
export function openStream(url: string, options: StreamOptions): Stream {
  let lastId = options.lastEventId;
  let retryMs = 1000;
  let closed = false;
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<void> => {
    controller = new AbortController();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    let reason = 'the server closed the stream';
    try {
      const response = await fetch(url, { headers, credentials: 'same-origin', signal: controller.signal });
      if (response.status === 401 || response.status === 404 || response.status === 400) {
        closed = true;
        options.onFatal?.(response.status);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      options.onOpen?.();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const cut = buffer.lastIndexOf('\n\n');
        if (cut < 0) continue;
        const events = parseBlocks(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        const delivered: SseEvent[] = [];
        let stop = false;
        for (const event of events.events) {
          if (event.type !== '' && options.stopBefore?.(event)) {
            stop = true;
            break;
          }
          if (event.id !== undefined) lastId = event.id;
          if (event.type !== '') delivered.push(event);
          if (options.endOn && event.type === options.endOn) stop = true;
        }
        if (events.retry !== undefined) retryMs = events.retry;
        if (delivered.length > 0) options.onEvents(delivered);
        if (stop) {
          closed = true;
          controller.abort();
          options.onDone?.();
          return;
        }
      }
    } catch (error) {
      reason = (error as Error).message;
    }
    if (closed) return;
    options.onDrop?.(reason);
    timer = setTimeout(() => void connect(), retryMs);
  };
  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
    lastEventId: () => lastId,
    reconnect() {
      controller?.abort();
    },
  };
}

/** Parses complete SSE blocks; a block with only an `id:` comes out with type '' (it moves the resume point). */
function parseBlocks(text: string): { events: SseEvent[]; retry?: number } {
  const events: SseEvent[] = [];
  let retry: number | undefined;
  for (const block of text.split('\n\n')) {
    let id: string | undefined;
    let type = '';
    let data = '';
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
      if (field === 'data') {
        data = hasData ? `${data}\n${value}` : value;
        hasData = true;
      } else if (field === 'event') type = value;
      else if (field === 'id') id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    if (hasData) events.push({ id, type: type || 'message', data });
    else if (id !== undefined) events.push({ id, type: '', data: '' });
  }
  return { events, ...(retry !== undefined ? { retry } : {}) };
}
