import { duplicateClient, type RedisClient } from '../redis-client.ts';
import { LOG_ENTRY_TYPES, type LogEntry, type LogEntryType } from './log-entry.ts';

/** Options of a {@link LogStore}. */
export interface LogStoreOptions {
  /** Key prefix shared by every Outpost key. Default `outpost:`. */
  prefix?: string;
  /** Approximate maximum number of entries kept per job (XADD MAXLEN ~). Default 100000. */
  maxEntries?: number;
  /** Seconds a job's log is kept after its final entry. Default 7 days. */
  retentionSeconds?: number;
}

// INCR the job's counter and XADD with the id `<seq>-0` in one step, so the sequence is the stream id
// and concurrent writers (worker, API cancelling a queued job) can never interleave out of order.
const APPEND = `
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'type', ARGV[2], 'time', ARGV[3], 'data', ARGV[4])
if ARGV[2] == 'end' then
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return seq
`;

// The same for a batch: ARGV = maxlen, retention, then (type, time, data, slice) per entry, slice '' when
// none. One round trip, one INCRBY, ids consecutive and in argument order.
const APPEND_MANY = `
local n = (#ARGV - 2) / 4
local first = redis.call('INCRBY', KEYS[2], n) - n
for i = 1, n do
  local t = ARGV[4 * i - 1]
  local slice = ARGV[4 * i + 2]
  if slice == '' then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], (first + i) .. '-0', 'type', t, 'time', ARGV[4 * i], 'data', ARGV[4 * i + 1])
  else
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], (first + i) .. '-0', 'type', t, 'time', ARGV[4 * i], 'data', ARGV[4 * i + 1], 'slice', slice)
  end
  if t == 'end' then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    redis.call('EXPIRE', KEYS[2], ARGV[2])
  end
end
return first + n
`;

/** An entry to append: its type and data (its time is taken when it was queued). */
export interface NewLogEntry {
  type: LogEntryType;
  data: string;
  /** ISO-8601 time; default now. */
  time?: string;
  /** The slice (child job) it comes from, in a parent job's log. */
  slice?: string;
}

/** A blocking reader on its own connection, for one follower of one or more jobs. */
export interface BlockingLogReader {
  /** Entries after `afterSeq`, waiting up to `blockMs` for the first one; [] on timeout. */
  readAfter(jobId: string, afterSeq: number, count: number, blockMs: number): Promise<LogEntry[]>;
  /** Closes the connection; a pending read rejects. */
  close(): void;
}

type RawEntry = [id: string, fields: string[]];

// Entries per read while following: bounds what one follower holds (256 x a 4 KiB line = 1 MiB).
const FOLLOW_BATCH = 256;

/**
 * The log stream of every job: one Redis Stream per job whose entry ids are the job's sequence numbers,
 * so any node can read from any sequence and follow live with XREAD BLOCK.
 */
export class LogStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #maxEntries: number;
  readonly #retentionSeconds: number;

  constructor(redis: RedisClient, options: LogStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'outpost:';
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#retentionSeconds = options.retentionSeconds ?? 7 * 24 * 3600;
  }

  /** Appends one entry and resolves to its sequence number. Calls on one client keep their order. */
  async append(jobId: string, type: LogEntryType, data: string): Promise<number> {
    const seq = await this.#redis.eval(
      APPEND,
      2,
      this.#streamKey(jobId),
      this.#seqKey(jobId),
      String(this.#maxEntries),
      type,
      new Date().toISOString(),
      data,
      String(this.#retentionSeconds),
    );
    return Number(seq);
  }

  /**
   * Appends entries in one round trip, in order, with consecutive sequence numbers; resolves to the last
   * one. An empty list resolves to 0 without a call.
   */
  async appendMany(jobId: string, entries: readonly NewLogEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const args: string[] = [String(this.#maxEntries), String(this.#retentionSeconds)];
    const now = new Date().toISOString();
    for (const entry of entries) args.push(entry.type, entry.time ?? now, entry.data, entry.slice ?? '');
    const seq = await this.#redis.eval(APPEND_MANY, 2, this.#streamKey(jobId), this.#seqKey(jobId), ...args);
    return Number(seq);
  }

  /** The last entry's sequence (0 when the log is empty or gone) and whether it is the `end` entry. */
  async tail(jobId: string): Promise<{ seq: number; ended: boolean }> {
    const raw = (await this.#redis.xrevrange(this.#streamKey(jobId), '+', '-', 'COUNT', 1)) as RawEntry[];
    const last = raw[0] ? toEntry(raw[0]) : undefined;
    return { seq: last?.seq ?? 0, ended: last?.type === 'end' };
  }

  /** A reader with its own connection for XREAD BLOCK; close it when done. */
  blockingReader(): BlockingLogReader {
    const connection = duplicateClient(this.#redis, BLOCKING);
    return {
      readAfter: async (jobId, afterSeq, count, blockMs) => {
        const reply = await connection.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          this.#streamKey(jobId),
          `${afterSeq}-0`,
        );
        return (reply?.[0]?.[1] ?? []).map(toEntry);
      },
      close: () => disconnectOnce(connection),
    };
  }

  /** Entries with a sequence greater than `afterSeq`, at most `count` of them, oldest first. */
  async read(jobId: string, afterSeq = 0, count = 1000): Promise<LogEntry[]> {
    const raw = (await this.#redis.xrange(
      this.#streamKey(jobId),
      `(${afterSeq}-0`,
      '+',
      'COUNT',
      count,
    )) as RawEntry[];
    return raw.map(toEntry);
  }

  /** The last sequence written for the job, 0 when none. */
  async lastSeq(jobId: string): Promise<number> {
    return Number((await this.#redis.get(this.#seqKey(jobId))) ?? 0);
  }

  /**
   * Every entry after `afterSeq`, then live ones as they are appended, until the `end` entry or the signal
   * aborts. Uses its own blocking connection, closed when the iteration stops.
   */
  async *follow(jobId: string, afterSeq = 0, signal?: AbortSignal): AsyncGenerator<LogEntry> {
    const blocking = duplicateClient(this.#redis, BLOCKING);
    const onAbort = (): void => disconnectOnce(blocking);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let last = afterSeq;
      while (!signal?.aborted) {
        const batch = await this.read(jobId, last, FOLLOW_BATCH);
        if (batch.length === 0) {
          let reply: [string, RawEntry[]][] | null;
          try {
            reply = await blocking.xread(
              'COUNT',
              FOLLOW_BATCH,
              'BLOCK',
              5000,
              'STREAMS',
              this.#streamKey(jobId),
              `${last}-0`,
            );
          } catch (error) {
            if (signal?.aborted) return;
            throw error;
          }
          batch.push(...(reply?.[0]?.[1] ?? []).map(toEntry));
        }
        for (const entry of batch) {
          last = entry.seq;
          yield entry;
          if (entry.type === 'end') return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      disconnectOnce(blocking);
    }
  }

  /** Deletes a job's log now (retention normally does it). */
  async remove(jobId: string): Promise<void> {
    await this.#redis.del(this.#streamKey(jobId), this.#seqKey(jobId));
  }

  #streamKey(jobId: string): string {
    return `${this.#prefix}log:${jobId}`;
  }

  #seqKey(jobId: string): string {
    return `${this.#prefix}log-seq:${jobId}`;
  }
}

function toEntry([id, fields]: RawEntry): LogEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] ?? '', fields[i + 1] ?? '');
  const type = map.get('type') as LogEntryType;
  const slice = map.get('slice');
  return {
    seq: Number(id.split('-')[0]),
    type: LOG_ENTRY_TYPES.includes(type) ? type : 'stdout',
    time: map.get('time') ?? '',
    data: map.get('data') ?? '',
    ...(slice ? { slice } : {}),
  };
}

/**
 * A blocking reader's connection: opened at its first read (a follower that leaves at once opens none),
 * and not waited for at disconnect beyond 100 ms (nothing is pending on it that matters).
 */
const BLOCKING = { lazyConnect: true, disconnectTimeout: 100 } as const;

/**
 * Disconnects unless already ended: ioredis arms a 2 s timer on every disconnect() that only the socket's
 * 'close' clears, so a second call on a closed socket keeps the process alive 2 s for nothing.
 */
function disconnectOnce(connection: RedisClient): void {
  if (connection.status !== 'end') connection.disconnect();
}
