import type { LogEntry } from './log-entry.ts';

/**
 * Consecutive entries of one job, read once from Redis and handed to every local follower. `rendered`
 * caches the batch as each wire format renders it, so a batch is formatted once however many clients
 * receive it.
 */
export interface LogBatch {
  readonly entries: readonly LogEntry[];
  readonly rendered: Map<string, { chunk: string; count: number }>;
}

/** A batch of `entries` with an empty render cache. */
export function logBatch(entries: readonly LogEntry[]): LogBatch {
  return { entries, rendered: new Map() };
}
