import { logBatch, type LogBatch } from './log-batch.ts';
import type { BlockingLogReader, LogStore } from './log-store.ts';

/** Options of a {@link LogFanout}. */
export interface LogFanoutOptions {
  /** Entries per Redis read, for the shared reader and for a follower catching up. Default 256. */
  batchSize?: number;
  /** XREAD BLOCK time of the shared reader before it looks again. Default 5000 ms. */
  blockMs?: number;
}

/** One follower of a job's feed: at most one batch waits for it; past that it catches up from Redis. */
interface Follower {
  /** Sequence of the last entry handed to (or waiting for) the consumer. */
  last: number;
  /** Attached to the feed: receives its batches as they are read. */
  live: boolean;
  pending: LogBatch | undefined;
  failure: Error | undefined;
  wake: (() => void) | undefined;
}

/** The one reader of a job's stream on this node, shared by every local follower of the job. */
class JobFeed {
  /** Sequence of the last entry read (and handed out), known once `ready` resolved. */
  last = 0;
  ended = false;
  failure: Error | undefined;
  readonly followers = new Set<Follower>();
  readonly ready: Promise<void>;
  #reader: BlockingLogReader | undefined;
  #stopped = false;

  constructor(
    private readonly logs: LogStore,
    readonly jobId: string,
    private readonly options: Required<LogFanoutOptions>,
    private readonly onStop: () => void,
  ) {
    this.ready = this.#start();
  }

  async #start(): Promise<void> {
    try {
      const tail = await this.logs.tail(this.jobId);
      this.last = tail.seq;
      this.ended = tail.ended;
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.ended) this.stop();
    else void this.#loop();
  }

  async #loop(): Promise<void> {
    const reader = this.logs.blockingReader();
    this.#reader = reader;
    try {
      while (!this.#stopped) {
        const entries = await reader.readAfter(
          this.jobId,
          this.last,
          this.options.batchSize,
          this.options.blockMs,
        );
        if (this.#stopped || entries.length === 0) continue;
        const last = entries.at(-1);
        this.last = last?.seq ?? this.last;
        this.ended = entries.some((entry) => entry.type === 'end');
        const batch = logBatch(entries);
        for (const follower of this.followers) if (follower.live) deliver(follower, batch);
        if (this.ended) this.stop();
      }
    } catch (error) {
      if (!this.#stopped) this.#fail(error);
    } finally {
      reader.close();
    }
  }

  #fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error('log feed failed', { cause: error });
    for (const follower of this.followers) {
      follower.failure ??= this.failure;
      follower.wake?.();
    }
    this.stop();
  }

  /** Stops reading (the last follower left, the end entry was read, or Redis failed). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reader?.close();
    this.onStop();
  }
}

/** Hands a live batch to a follower, or detaches it when one batch already waits for it (slow client). */
function deliver(follower: Follower, batch: LogBatch): void {
  if (follower.pending) {
    follower.live = false;
    follower.wake?.();
    return;
  }
  const first = batch.entries[0];
  if (first && first.seq <= follower.last) {
    const rest = batch.entries.filter((entry) => entry.seq > follower.last);
    if (rest.length === 0) return;
    batch = logBatch(rest);
  }
  follower.pending = batch;
  follower.last = batch.entries.at(-1)?.seq ?? follower.last;
  follower.wake?.();
}

function endsLog(batch: LogBatch): boolean {
  return batch.entries.some((entry) => entry.type === 'end');
}

/**
 * Live log fan-out of this node: one reader per followed job (XREAD BLOCK in batches on its own
 * connection), each batch handed once to every local follower of the job. A follower whose consumer has
 * not taken the previous batch yet (a full socket) is detached and catches up from Redis by sequence on its
 * own, then re-attaches: nothing is dropped, and no follower holds more than one batch.
 */
export class LogFanout {
  readonly #logs: LogStore;
  readonly #options: Required<LogFanoutOptions>;
  readonly #feeds = new Map<string, JobFeed>();

  constructor(logs: LogStore, options: LogFanoutOptions = {}) {
    this.#logs = logs;
    this.#options = { batchSize: options.batchSize ?? 256, blockMs: options.blockMs ?? 5000 };
  }

  /** Jobs with a running feed on this node (for tests and metrics). */
  get feedCount(): number {
    return this.#feeds.size;
  }

  /**
   * Batches of the job's entries after `afterSeq`, in order without gaps, then live ones, until the `end`
   * entry or the signal aborts. Take the next batch only when the previous one is written.
   */
  async *follow(jobId: string, afterSeq: number, signal?: AbortSignal): AsyncGenerator<LogBatch> {
    const feed = this.#feed(jobId);
    const follower: Follower = {
      last: afterSeq,
      live: false,
      pending: undefined,
      failure: undefined,
      wake: undefined,
    };
    feed.followers.add(follower);
    const onAbort = (): void => follower.wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await feed.ready;
      while (!signal?.aborted) {
        if (follower.failure) throw follower.failure;
        if (follower.pending) {
          const batch = follower.pending;
          follower.pending = undefined;
          yield batch;
          if (endsLog(batch)) return;
          continue;
        }
        if (!follower.live) {
          const batch = await this.#catchUp(feed, follower);
          if (batch === 'end') return;
          if (batch) {
            yield batch;
            if (endsLog(batch)) return;
          }
          continue;
        }
        // Live, nothing waiting: sleep until the feed delivers, fails, or the signal aborts.
        await new Promise<void>((resolve) => {
          follower.wake = resolve;
        });
        follower.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      feed.followers.delete(follower);
      if (feed.followers.size === 0) feed.stop();
    }
  }

  /** Reads the follower's next batch from Redis, or attaches it to the feed once it reached the feed. */
  async #catchUp(feed: JobFeed, follower: Follower): Promise<LogBatch | 'end' | undefined> {
    if (follower.last >= feed.last) return this.#attach(feed, follower);
    const entries = await this.#logs.read(feed.jobId, follower.last, this.#options.batchSize);
    // Nothing left though the feed is further: entries trimmed away (MAXLEN); go on from the feed.
    if (entries.length === 0) return this.#attach(feed, follower);
    follower.last = entries.at(-1)?.seq ?? follower.last;
    return logBatch(entries);
  }

  #attach(feed: JobFeed, follower: Follower): 'end' | undefined {
    if (feed.failure) throw feed.failure;
    if (feed.ended) return 'end';
    follower.live = true;
    return undefined;
  }

  #feed(jobId: string): JobFeed {
    let feed = this.#feeds.get(jobId);
    if (!feed) {
      const created: JobFeed = new JobFeed(this.#logs, jobId, this.#options, () => {
        if (this.#feeds.get(jobId) === created) this.#feeds.delete(jobId);
      });
      feed = created;
      this.#feeds.set(jobId, feed);
    }
    return feed;
  }
}
