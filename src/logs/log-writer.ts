import type { LogEntryType } from './log-entry.ts';
import type { LogStore, NewLogEntry } from './log-store.ts';

/** Appends a job's entries in call order without waiting for each; `flush` waits for all of them. */
export interface LogWriter {
  write(type: LogEntryType, data: string): void;
  /** Resolves once every entry written so far is stored; rejects with the first failure. */
  flush(): Promise<void>;
  /**
   * Back-pressure for producers: undefined while the queue is below its limit, else a promise that resolves
   * once it has room again. A line reader pauses its stream until then.
   */
  ready?(): Promise<void> | undefined;
}

/** Limits of a {@link createLogWriter}. */
export interface LogWriterOptions {
  /** Entries per Redis call at most. Default 256. */
  maxBatch?: number;
  /** Queued entries above which `ready()` asks producers to wait. Default 4096. */
  highWaterMark?: number;
  /** Queued data bytes (UTF-16 length) above which `ready()` asks producers to wait, and per Redis call. Default 1 MiB. */
  highWaterBytes?: number;
  /** Labels every entry with this slice (a child's entries copied into its parent's log). */
  slice?: string;
}

/**
 * A writer for one job. Entries queue in call order; one append is in flight at a time and takes every
 * queued entry (up to `maxBatch`) in one round trip, so a fast ansible-playbook is never slowed to one
 * round trip per line, order and sequence numbers are kept, and nothing is dropped. `ready()` bounds the
 * queue when Redis is slower than the producer.
 */
export function createLogWriter(logs: LogStore, jobId: string, options: LogWriterOptions = {}): LogWriter {
  const maxBatch = options.maxBatch ?? 256;
  const highWaterMark = options.highWaterMark ?? 4096;
  const highWaterBytes = options.highWaterBytes ?? 2 ** 20;
  const { slice } = options;
  let bytes = 0;
  const queue: NewLogEntry[] = [];
  let head = 0;
  let running: Promise<void> | undefined;
  let failure: Error | undefined;
  let waiters: (() => void)[] = [];

  const queued = (): number => queue.length - head;
  const full = (): boolean => queued() >= highWaterMark || bytes >= highWaterBytes;
  const release = (): void => {
    if (waiters.length === 0 || queued() > highWaterMark / 2 || bytes > highWaterBytes / 2) return;
    const wake = waiters;
    waiters = [];
    for (const resolve of wake) resolve();
  };
  const pump = async (): Promise<void> => {
    while (queued() > 0) {
      let end = head;
      let batchBytes = 0;
      while (
        end < queue.length &&
        end - head < maxBatch &&
        (end === head || batchBytes < highWaterBytes / 2)
      ) {
        batchBytes += queue[end]?.data.length ?? 0;
        end += 1;
      }
      const batch = queue.slice(head, end);
      head = end;
      // Let go of stored entries at once (they may be big lines), compacting the array now and then.
      if (head === queue.length || head > 256) {
        queue.splice(0, head);
        head = 0;
      }
      try {
        await logs.appendMany(jobId, batch);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error('log append failed', { cause: error });
      }
      bytes -= batchBytes;
      release();
    }
    running = undefined;
    release();
  };

  return {
    write(type, data) {
      queue.push({ type, data, time: new Date().toISOString(), ...(slice ? { slice } : {}) });
      bytes += data.length;
      running ??= pump();
    },
    async flush() {
      while (running) await running;
      if (failure) throw failure;
    },
    ready() {
      if (!full()) return undefined;
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
