import type { LogEntryType } from './log-entry.ts';
import type { LogStore } from './log-store.ts';

/** Appends a job's entries in call order without waiting for each; `flush` waits for all of them. */
export interface LogWriter {
  write(type: LogEntryType, data: string): void;
  /** Resolves once every entry written so far is stored; rejects with the first failure. */
  flush(): Promise<void>;
}

/**
 * A writer for one job. Appends go out on one Redis connection in call order (ioredis pipelines them),
 * so a fast ansible-playbook is never slowed to one round trip per line, and nothing is dropped.
 */
export function createLogWriter(logs: LogStore, jobId: string): LogWriter {
  const pending = new Set<Promise<unknown>>();
  let failure: Error | undefined;
  return {
    write(type, data) {
      const append: Promise<unknown> = logs.append(jobId, type, data).then(
        () => pending.delete(append),
        (error: unknown) => {
          failure ??= error instanceof Error ? error : new Error('log append failed', { cause: error });
          pending.delete(append);
        },
      );
      pending.add(append);
    },
    async flush() {
      await Promise.all([...pending]);
      if (failure) throw failure;
    },
  };
}
