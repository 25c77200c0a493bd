import type { Redis } from 'ioredis';
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

type RawEntry = [id: string, fields: string[]];

/**
 * The log stream of every job: one Redis Stream per job whose entry ids are the job's sequence numbers,
 * so any node can read from any sequence and follow live with XREAD BLOCK.
 */
export class LogStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxEntries: number;
  readonly #retentionSeconds: number;

  constructor(redis: Redis, options: LogStoreOptions = {}) {
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
    const blocking = this.#redis.duplicate();
    const onAbort = (): void => blocking.disconnect();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let last = afterSeq;
      while (!signal?.aborted) {
        const batch = await this.read(jobId, last, 1000);
        if (batch.length === 0) {
          let reply: [string, RawEntry[]][] | null;
          try {
            reply = await blocking.xread(
              'COUNT',
              1000,
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
      blocking.disconnect();
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
  return {
    seq: Number(id.split('-')[0]),
    type: LOG_ENTRY_TYPES.includes(type) ? type : 'stdout',
    time: map.get('time') ?? '',
    data: map.get('data') ?? '',
  };
}
