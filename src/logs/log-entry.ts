/** What a log entry carries: a stdout line, a callback event, a status change, or the final entry. */
export type LogEntryType = 'stdout' | 'event' | 'status' | 'end';

/** One entry of a job's log stream, numbered by a per-job sequence starting at 1. */
export interface LogEntry {
  seq: number;
  type: LogEntryType;
  /** ISO-8601 time the entry was appended. */
  time: string;
  /** A stdout line (text), an event (JSON text), a status (JSON text), or the final outcome (JSON text). */
  data: string;
  /** In a parent job's log: the slice (child job) the entry comes from, e.g. `vpc1-proxy#2`. */
  slice?: string;
}

/** The entry types, for validation at the edges. */
export const LOG_ENTRY_TYPES: readonly LogEntryType[] = ['stdout', 'event', 'status', 'end'];
