import { duplicateClient, type RedisClient } from '../redis-client.ts';

/**
 * One event of `GET /v1/events`. `type` is open-ended: `host`, `proxy`, `project` (registry changes),
 * `agent` (agent-state transitions) today; watch transitions and more later.
 */
export interface OutpostEvent {
  /** The Redis Stream id, `<ms>-<n>`: what a client sends back as Last-Event-ID. */
  id: string;
  type: string;
  /** ISO-8601 time it was published. */
  time: string;
  /** The project it belongs to, so a project-scoped reader sees only its own. */
  project?: string;
  /** JSON text of the event's body. */
  data: string;
}

/** An event to publish. */
export interface NewEvent {
  type: string;
  project?: string;
  data: unknown;
}

/** Options of an {@link EventStore}. */
export interface EventStoreOptions {
  /** Key prefix shared by every Outpost key. Default `outpost:`. */
  prefix?: string;
  /** Approximate number of events kept for readers resuming (XADD MAXLEN ~). Default 10000. */
  maxEvents?: number;
  /** Events older than this are trimmed too (XTRIM MINID ~ at each publish). Default: kept until MAXLEN. */
  maxAgeMs?: number;
  /** Name of the stream under the prefix. Default `events`; the audit trail is another stream, `audit`. */
  name?: string;
}

type RawEntry = [id: string, fields: string[]];

// Events per read: bounds what one follower holds at once.
const BATCH = 500;

/**
 * Outpost's event stream: one Redis Stream shared by every node, so any node's `GET /v1/events` sees
 * what any other published, and a reader resumes from the id it saw last.
 */
export class EventStore {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number | undefined;

  constructor(redis: RedisClient, options: EventStoreOptions = {}) {
    this.#redis = redis;
    this.#key = `${options.prefix ?? 'outpost:'}${options.name ?? 'events'}`;
    this.#maxEvents = options.maxEvents ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs;
  }

  /** Appends events in order; resolves to the id of the last one. */
  async publish(events: readonly NewEvent[]): Promise<string | undefined> {
    if (events.length === 0) return undefined;
    const time = new Date().toISOString();
    const pipeline = this.#redis.pipeline();
    for (const event of events) {
      pipeline.xadd(
        this.#key,
        'MAXLEN',
        '~',
        this.#maxEvents,
        '*',
        'type',
        event.type,
        'time',
        time,
        'project',
        event.project ?? '',
        'data',
        JSON.stringify(event.data),
      );
    }
    if (this.#maxAgeMs !== undefined)
      pipeline.xtrim(this.#key, 'MINID', '~', `${Date.now() - this.#maxAgeMs}-0`);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    return String(results[events.length - 1]?.[1]);
  }

  /** The id of the newest event, `0-0` when there is none: where a reader that wants only new events starts. */
  async lastId(): Promise<string> {
    const raw = (await this.#redis.xrevrange(this.#key, '+', '-', 'COUNT', 1)) as RawEntry[];
    return raw[0]?.[0] ?? '0-0';
  }

  /** The newest `count` events, oldest first. */
  async tail(count: number): Promise<OutpostEvent[]> {
    const raw = (await this.#redis.xrevrange(this.#key, '+', '-', 'COUNT', count)) as RawEntry[];
    return raw.reverse().map(toEvent);
  }

  /** Events after `afterId`, oldest first, at most `count`. */
  async read(afterId: string, count = BATCH): Promise<OutpostEvent[]> {
    const raw = (await this.#redis.xrange(this.#key, `(${afterId}`, '+', 'COUNT', count)) as RawEntry[];
    return raw.map(toEvent);
  }

  /**
   * Batches of events after `afterId`, then live ones as they are published, until the signal aborts.
   * Blocks on its own connection, closed when the iteration stops.
   */
  async *follow(afterId: string, signal: AbortSignal): AsyncGenerator<OutpostEvent[]> {
    const blocking = duplicateClient(this.#redis);
    const onAbort = (): void => blocking.disconnect();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let last = afterId;
      while (!signal.aborted) {
        let batch = await this.read(last);
        if (batch.length === 0) {
          let reply: [string, RawEntry[]][] | null;
          try {
            reply = await blocking.xread('COUNT', BATCH, 'BLOCK', 5000, 'STREAMS', this.#key, last);
          } catch (error) {
            if (signal.aborted) return;
            throw error;
          }
          batch = (reply?.[0]?.[1] ?? []).map(toEvent);
        }
        const final = batch.at(-1);
        if (!final) continue;
        last = final.id;
        yield batch;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      blocking.disconnect();
    }
  }
}

function toEvent([id, fields]: RawEntry): OutpostEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] ?? '', fields[i + 1] ?? '');
  const project = map.get('project');
  return {
    id,
    type: map.get('type') ?? 'unknown',
    time: map.get('time') ?? '',
    ...(project ? { project } : {}),
    data: map.get('data') ?? 'null',
  };
}
