import { z } from 'zod';
import { ValidationError, quote } from '../errors.ts';
import { LogFanout } from '../logs/log-fanout.ts';
import type { LogStore } from '../logs/log-store.ts';
import { FINAL_STATUSES, type JobKind, type JobRecord } from '../queue/job-record.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { JobStore } from '../queue/job-store.ts';
import { checkCredentials } from './check-credentials.ts';
import { checkJobTargets } from './check-job-targets.ts';
import { idSchema, jobInputSchema, jobListQuerySchema } from './job-input.ts';
import { jobNamed, jobTargets } from './locate.ts';
import { defineRoute, type Route } from './route.ts';
import type { RegistryPort } from './registry-port.ts';
import type { ServiceMetrics } from './service-metrics.ts';
import { streamEntries, type StreamFormat } from './stream-entries.ts';

/** What the job routes use. */
export interface JobRouteDeps {
  queue: JobQueue;
  store: JobStore;
  logs: LogStore;
  /** This node's live log fan-out; one is made for the routes when not given. */
  fanout?: LogFanout;
  metrics?: ServiceMetrics;
  /** SSE heartbeat interval. Default 15000 ms. */
  heartbeatMs?: number;
  /** Where submitted jobs' hosts, proxies and projects are looked up; unchecked without it. */
  registry?: RegistryPort;
  /** Whether `hosts: ["localhost"]` runs are enabled (they name no registry host). */
  allowLocal?: boolean;
  /** Aborted when the service stops: every live stream ends at once instead of holding the server open. */
  closing?: AbortSignal;
}

/** Kinds only an admin submits: they change proxies' sshd or a project's keys. */
const ADMIN_KINDS: readonly JobKind[] = ['prepare-proxy', 'rotate-key'];

const streamQuery = z
  .object({
    from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Start with the last N entries (the console shows the end of a long log first). */
    tail: z.coerce.number().int().min(1).max(10_000_000).optional(),
    follow: z.enum(['true', 'false', '1', '0']).optional(),
  })
  .strict();
const jobParams = z.object({ id: idSchema });
const byJobId = jobNamed<{ params: { id: string } }>((i) => i.params.id, 'the project of the job `id`');
const idempotencyHeader = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

/** `/v1/jobs`: submit, list, show, cancel, and the live log (SSE, NDJSON, plain text). */
export function jobRoutes(deps: JobRouteDeps): Route[] {
  const { queue, store, logs } = deps;
  const fanout = deps.fanout ?? new LogFanout(logs);

  /** Follows only while there is something to wait for: a job that ended and was read to its end is not. */
  async function shouldFollow(id: string, afterSeq: number, wanted: boolean): Promise<boolean> {
    const job = await store.get(id);
    if (!wanted) return false;
    if (!FINAL_STATUSES.includes(job.status)) return true;
    return (await logs.lastSeq(id)) > afterSeq;
  }

  return [
    defineRoute({
      name: 'submitJob',
      method: 'post',
      path: '/v1/jobs',
      tag: 'jobs',
      summary: 'Submit a job',
      description:
        'Queues a job. A project token’s job is for its project only: every host, proxy and project it names must be of that project, and a network selector matches that project’s hosts only.',
      access: {
        role: 'operator',
        roleOf: {
          describe: 'admin for prepare-proxy and rotate-key',
          role: ({ body }) => (ADMIN_KINDS.includes(body.kind) ? 'admin' : 'operator'),
        },
        scope: jobTargets,
      },
      body: jobInputSchema,
      headers: [
        {
          name: 'Idempotency-Key',
          description: 'The same key (within the token’s scope) answers the same job instead of a new one.',
          schema: idempotencyHeader,
        },
      ],
      ok: [
        { status: 202, description: 'The job, queued.' },
        { status: 200, description: 'The job an earlier request with the same idempotency key made.' },
      ],
      errors: [409],
      action: 'job.submit',
      async handle({ req, res, body, project, principal, audit }) {
        const header = req.get('idempotency-key');
        if (header !== undefined && !idempotencyHeader.safeParse(header).success) {
          throw new ValidationError(
            'Idempotency-Key',
            `expected 1 to 128 of A-Z a-z 0-9 . _ : -, got ${quote(header)}`,
          );
        }
        checkCredentials(body.credentials);
        const targets = deps.registry
          ? await checkJobTargets(deps.registry, body, { allowLocal: deps.allowLocal ?? false })
          : {};
        const { credentials, idempotencyKey, ...input } = body;
        // A project token's job is its project's, even when only a network selector chose its hosts.
        const owner = input.project ?? targets.project ?? project;
        const spec = { ...input, ...(owner ? { project: owner } : {}) };
        const key = idempotencyKey ?? header;
        const { job, created } = await queue.submit(spec, {
          ...(key ? { idempotencyKey: key, idempotencyScope: principal.scope } : {}),
          ...(credentials ? { credentials } : {}),
          submittedBy: { tokenId: principal.tokenId, name: principal.name },
        });
        audit(`job:${job.id}`);
        res
          .status(created ? 202 : 200)
          .location(`/v1/jobs/${job.id}`)
          .json(present(job));
      },
    }),
    defineRoute({
      name: 'listJobs',
      method: 'get',
      path: '/v1/jobs',
      tag: 'jobs',
      summary: 'List jobs, newest first',
      description:
        'The jobs that were submitted; the slices of a sliced job are listed with `parent=<its id>`, in slice order. A project token lists its project’s jobs only.',
      access: { role: 'viewer', scope: 'own' },
      query: jobListQuerySchema,
      ok: { status: 200, description: 'Jobs, newest first.' },
      async handle({ res, query, project, sees }) {
        if (!sees(query.project ?? project)) {
          res.json([]);
          return;
        }
        const filter = { ...query, ...(project ? { project } : {}) };
        res.json((await store.list(filter)).map(present));
      },
    }),
    defineRoute({
      name: 'getJob',
      method: 'get',
      path: '/v1/jobs/:id',
      tag: 'jobs',
      summary: 'Show a job',
      access: { role: 'viewer', scope: byJobId },
      params: jobParams,
      ok: { status: 200, description: 'The job: status, per-host result, timings, who submitted it.' },
      async handle({ res, params }) {
        res.json(present(await store.get(params.id)));
      },
    }),
    defineRoute({
      name: 'cancelJob',
      method: 'post',
      path: '/v1/jobs/:id/cancel',
      tag: 'jobs',
      summary: 'Cancel a queued or running job',
      access: { role: 'operator', scope: byJobId },
      params: jobParams,
      ok: { status: 202, description: 'The job, canceled or with its cancel requested.' },
      errors: [409],
      action: 'job.cancel',
      async handle({ res, params }) {
        res.status(202).json(present(await queue.cancel(params.id)));
      },
    }),
    defineRoute({
      name: 'streamJobEvents',
      method: 'get',
      path: '/v1/jobs/:id/events',
      tag: 'jobs',
      summary: 'A job’s log entries, live',
      description:
        'Server-sent events (or NDJSON with `Accept: application/x-ndjson`), one per log entry, resumable with `Last-Event-ID`.',
      access: { role: 'viewer', scope: byJobId },
      params: jobParams,
      query: streamQuery,
      headers: [
        {
          name: 'Last-Event-ID',
          description: 'Resume after this entry’s sequence number.',
          schema: z.string().regex(/^\d{1,15}$/),
        },
      ],
      ok: [
        { status: 200, description: 'The entries, live until the job ends.', type: 'text/event-stream' },
        { status: 200, description: 'The entries as NDJSON.', type: 'application/x-ndjson' },
      ],
      stream: true,
      async handle({ req, res, params, query }) {
        const id = params.id;
        const lastEventId = req.get('last-event-id');
        if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) {
          throw new ValidationError('Last-Event-ID', `expected a sequence number, got ${quote(lastEventId)}`);
        }
        const afterSeq =
          lastEventId !== undefined
            ? Number(lastEventId)
            : query.tail !== undefined
              ? Math.max(0, (await logs.lastSeq(id)) - query.tail)
              : (query.from ?? 1) - 1;
        const format: StreamFormat = (req.get('accept') ?? '').includes('application/x-ndjson')
          ? 'ndjson'
          : 'sse';
        const follow = await shouldFollow(id, afterSeq, query.follow !== 'false' && query.follow !== '0');
        await streamEntries(logs, fanout, id, res, {
          format,
          afterSeq,
          follow,
          ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
          ...(deps.closing ? { signal: deps.closing } : {}),
          onSent: (n) => deps.metrics?.countStreamed(n),
        });
      },
    }),
    defineRoute({
      name: 'readJobLog',
      method: 'get',
      path: '/v1/jobs/:id/log',
      tag: 'jobs',
      summary: 'A job’s output as plain text',
      access: { role: 'viewer', scope: byJobId },
      params: jobParams,
      query: streamQuery,
      ok: { status: 200, description: 'Its stdout lines (live with `follow=true`).', type: 'text/plain' },
      stream: true,
      async handle({ res, params, query }) {
        const afterSeq = (query.from ?? 1) - 1;
        const follow = await shouldFollow(
          params.id,
          afterSeq,
          query.follow === 'true' || query.follow === '1',
        );
        await streamEntries(logs, fanout, params.id, res, {
          format: 'text',
          afterSeq,
          follow,
          ...(deps.closing ? { signal: deps.closing } : {}),
          onSent: (n) => deps.metrics?.countStreamed(n),
        });
      },
    }),
  ];
}

/** A job as the API shows it, with its links. */
function present(job: JobRecord): JobRecord & { links: Record<string, string> } {
  const base = `/v1/jobs/${job.id}`;
  return {
    ...job,
    links: { self: base, events: `${base}/events`, log: `${base}/log`, cancel: `${base}/cancel` },
  };
}
