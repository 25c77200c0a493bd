import { Router, type Request } from 'express';
import { z } from 'zod';
import { ValidationError, quote } from '../errors.ts';
import { LogFanout } from '../logs/log-fanout.ts';
import type { LogStore } from '../logs/log-store.ts';
import { FINAL_STATUSES, type JobRecord } from '../queue/job-record.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { JobStore } from '../queue/job-store.ts';
import { idSchema, jobInputSchema, jobListQuerySchema } from './job-input.ts';
import { checkCredentials } from './check-credentials.ts';
import { checkJobTargets } from './check-job-targets.ts';
import { parseInput } from './parse-input.ts';
import type { RegistryPort } from './registry-port.ts';
import type { ServiceMetrics } from './service-metrics.ts';
import { streamEntries, type StreamFormat } from './stream-entries.ts';

/** What the job routes use. */
export interface JobRouteDeps {
  queue: JobQueue;
  store: JobStore;
  logs: LogStore;
  /** This node's live log fan-out; one is made for the router when not given. */
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

const streamQuery = z
  .object({
    from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Start with the last N entries (the console shows the end of a long log first). */
    tail: z.coerce.number().int().min(1).max(10_000_000).optional(),
    follow: z.enum(['true', 'false', '1', '0']).optional(),
  })
  .strict();

/** `/v1/jobs`: submit, list, show, cancel, and the live log (SSE, NDJSON, plain text). */
export function jobRoutes(deps: JobRouteDeps): Router {
  const router = Router();
  const { queue, store, logs } = deps;
  const fanout = deps.fanout ?? new LogFanout(logs);

  router.post('/jobs', async (req, res) => {
    const input = parseInput(jobInputSchema, req.body, 'body');
    const header = req.get('idempotency-key');
    if (header !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(header)) {
      throw new ValidationError(
        'Idempotency-Key',
        `expected 1 to 128 of A-Z a-z 0-9 . _ : -, got ${quote(header)}`,
      );
    }
    checkCredentials(input.credentials);
    const targets = deps.registry
      ? await checkJobTargets(deps.registry, input, { allowLocal: deps.allowLocal ?? false })
      : {};
    const { credentials, idempotencyKey, ...spec } = { ...targets, ...input };
    const key = idempotencyKey ?? header;
    const { job, created } = await queue.submit(spec, {
      ...(key ? { idempotencyKey: key } : {}),
      ...(credentials ? { credentials } : {}),
    });
    res
      .status(created ? 202 : 200)
      .location(`/v1/jobs/${job.id}`)
      .json(present(job));
  });

  router.get('/jobs', async (req, res) => {
    const filter = parseInput(jobListQuerySchema, req.query, 'query');
    res.json((await store.list(filter)).map(present));
  });

  router.get('/jobs/:id', async (req, res) => {
    res.json(present(await store.get(jobId(req))));
  });

  router.post('/jobs/:id/cancel', async (req, res) => {
    res.status(202).json(present(await queue.cancel(jobId(req))));
  });

  router.get('/jobs/:id/events', async (req, res) => {
    const id = jobId(req);
    const query = parseInput(streamQuery, req.query, 'query');
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
  });

  router.get('/jobs/:id/log', async (req, res) => {
    const id = jobId(req);
    const query = parseInput(streamQuery, req.query, 'query');
    const afterSeq = (query.from ?? 1) - 1;
    const follow = await shouldFollow(id, afterSeq, query.follow === 'true' || query.follow === '1');
    await streamEntries(logs, fanout, id, res, {
      format: 'text',
      afterSeq,
      follow,
      ...(deps.closing ? { signal: deps.closing } : {}),
      onSent: (n) => deps.metrics?.countStreamed(n),
    });
  });

  /** Follows only while there is something to wait for: a job that ended and was read to its end is not. */
  async function shouldFollow(id: string, afterSeq: number, wanted: boolean): Promise<boolean> {
    const job = await store.get(id);
    if (!wanted) return false;
    if (!FINAL_STATUSES.includes(job.status)) return true;
    return (await logs.lastSeq(id)) > afterSeq;
  }

  return router;
}

function jobId(req: Request): string {
  return parseInput(idSchema, req.params.id, 'id');
}

/** A job as the API shows it, with its links. */
function present(job: JobRecord): JobRecord & { links: Record<string, string> } {
  const base = `/v1/jobs/${job.id}`;
  return {
    ...job,
    links: { self: base, events: `${base}/events`, log: `${base}/log`, cancel: `${base}/cancel` },
  };
}
