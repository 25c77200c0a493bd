import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis-client.ts';
import { NotFoundError } from '../errors.ts';
import type { JobRecord, JobStatus } from './job-record.ts';

// Writes `patch` only when the job's status is one of ARGV[2..]; returns 1 when written.
const TRANSITION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local current = redis.call('HGET', KEYS[1], 'status')
local allowed = false
for i = 2, #ARGV do if ARGV[i] == current then allowed = true end end
if not allowed then return 0 end
local patch = cjson.decode(ARGV[1])
for i = 1, #patch, 2 do
  if patch[i + 1] == '' then redis.call('HDEL', KEYS[1], patch[i]) else redis.call('HSET', KEYS[1], patch[i], patch[i + 1]) end
end
return 1
`;

/** Filters of {@link JobStore.list}. */
export interface JobFilter {
  status?: JobStatus;
  /** Only jobs of this project (a job of no project, a local run, matches none). */
  project?: string;
  kind?: string;
  host?: string;
  /** Only the slices of this job; without it, only jobs that are not slices (what was submitted). */
  parent?: string;
  limit?: number;
}

/**
 * Job records in Redis: one hash per job (each field JSON-encoded), an index sorted by creation, and
 * idempotency keys. BullMQ only carries the job id; the status here is the truth.
 */
export class JobStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, prefix = 'outpost:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** A new job id: sortable by time, valid as an entity id. */
  static newId(): string {
    return `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  }

  /**
   * Stores a new record unless `idempotencyKey` already names a job of `scope`; resolves to the stored
   * record and whether it was created now. A project's keys (`shop/<key>`: `/` is never in a key) cannot
   * reach a job of `*` or of another project.
   */
  async create(
    record: JobRecord,
    ttlSeconds = 30 * 24 * 3600,
    scope = '*',
  ): Promise<{ record: JobRecord; created: boolean }> {
    if (record.idempotencyKey) {
      const scoped = scope === '*' ? record.idempotencyKey : `${scope}/${record.idempotencyKey}`;
      const idemKey = `${this.#prefix}job-idem:${scoped}`;
      const claimed = await this.#redis.set(idemKey, record.id, 'EX', ttlSeconds, 'NX');
      if (claimed !== 'OK') {
        const existing = await this.#redis.get(idemKey);
        if (existing) return { record: await this.get(existing), created: false };
      }
    }
    await this.#redis
      .multi()
      .hset(this.#key(record.id), encode(record))
      .zadd(`${this.#prefix}jobs`, Date.parse(record.createdAt), record.id)
      .exec();
    return { record, created: true };
  }

  /** The job `id`; throws NotFoundError. */
  async get(id: string): Promise<JobRecord> {
    const record = await this.find(id);
    if (!record) throw new NotFoundError('job', id);
    return record;
  }

  /** The job `id`, or undefined. */
  async find(id: string): Promise<JobRecord | undefined> {
    const hash = await this.#redis.hgetall(this.#key(id));
    if (Object.keys(hash).length === 0) return undefined;
    return decode(hash);
  }

  /**
   * Applies `patch` only if the job's status is one of `from`; resolves to whether it did. An
   * undefined value in the patch deletes the field.
   */
  async transition(id: string, from: readonly JobStatus[], patch: Partial<JobRecord>): Promise<boolean> {
    const flat: string[] = [];
    for (const [field, value] of Object.entries(patch))
      flat.push(field, value === undefined ? '' : JSON.stringify(value));
    const result = await this.#redis.eval(
      TRANSITION,
      1,
      this.#key(id),
      JSON.stringify(flat),
      ...from.map((s) => JSON.stringify(s)),
    );
    if (result === -1) throw new NotFoundError('job', id);
    return result === 1;
  }

  /** Sets fields whatever the status (progress facts such as the pgid or the command). */
  async update(id: string, patch: Partial<JobRecord>): Promise<void> {
    const fields = encode(patch);
    if (Object.keys(fields).length > 0) await this.#redis.hset(this.#key(id), fields);
  }

  /** Newest first; with `parent`, that job's slices in slice order (read from its record, not the index). */
  async list(filter: JobFilter = {}): Promise<JobRecord[]> {
    const limit = filter.limit ?? 100;
    if (filter.parent !== undefined) {
      const ids = (await this.find(filter.parent))?.slices ?? [];
      const slices = await Promise.all(ids.map((id) => this.find(id)));
      return slices
        .filter((record): record is JobRecord => record !== undefined && matches(record, filter))
        .sort((a, b) => (a.slice?.index ?? 0) - (b.slice?.index ?? 0))
        .slice(0, limit);
    }
    const jobs: JobRecord[] = [];
    let offset = 0;
    while (jobs.length < limit) {
      const ids = await this.#redis.zrevrange(`${this.#prefix}jobs`, offset, offset + 199);
      if (ids.length === 0) break;
      offset += ids.length;
      const records = await Promise.all(ids.map((id) => this.find(id)));
      for (const record of records) {
        if (!record || !matches(record, filter)) continue;
        jobs.push(record);
        if (jobs.length >= limit) break;
      }
    }
    return jobs;
  }

  /** Ids of jobs whose status is `status` (scans the index; used by recovery). */
  async idsWithStatus(status: JobStatus): Promise<string[]> {
    const ids = await this.#redis.zrange(`${this.#prefix}jobs`, 0, -1);
    const statuses = await Promise.all(ids.map((id) => this.#redis.hget(this.#key(id), 'status')));
    return ids.filter((_, i) => statuses[i] === JSON.stringify(status));
  }

  /** Counts of jobs by status. */
  async countByStatus(): Promise<Record<string, number>> {
    const ids = await this.#redis.zrange(`${this.#prefix}jobs`, 0, -1);
    const statuses = await Promise.all(ids.map((id) => this.#redis.hget(this.#key(id), 'status')));
    const counts: Record<string, number> = {};
    for (const raw of statuses) {
      if (!raw) continue;
      const status = JSON.parse(raw) as string;
      counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  #key(id: string): string {
    return `${this.#prefix}job:${id}`;
  }
}

function matches(record: JobRecord, filter: JobFilter): boolean {
  if (record.parent !== filter.parent) return false;
  if (filter.status && record.status !== filter.status) return false;
  if (filter.project && record.project !== filter.project) return false;
  if (filter.kind && record.kind !== filter.kind) return false;
  if (filter.host && !(record.hosts ?? []).includes(filter.host) && !(filter.host in (record.result ?? {})))
    return false;
  return true;
}

function encode(record: Partial<JobRecord>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [field, value] of Object.entries(record))
    if (value !== undefined) fields[field] = JSON.stringify(value);
  return fields;
}

function decode(hash: Record<string, string>): JobRecord {
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(hash)) record[field] = JSON.parse(value);
  return record as unknown as JobRecord;
}
