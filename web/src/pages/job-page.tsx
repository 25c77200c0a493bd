import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { HostStatusPanel } from '../components/host-status-panel.tsx';
import { Link } from '../components/link.tsx';
import { LogView } from '../components/log-view.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { formatDuration, formatRun, formatTime } from '../format.ts';
import { LogModel, type LogEntry } from '../log-model.ts';
import { navigate, setQuery, useLocation } from '../router.ts';
import { openStream, type SseEvent, type Stream } from '../sse.ts';
import { FINAL_STATUSES, type Job } from '../types.ts';
import { useCan } from '../use-can.ts';

// Entries read first from the end of the log: more than a screen, little enough to arrive at once.
const TAIL_ENTRIES = 2000;

/** The log entries of SSE events (each event's data is one entry). */
function parseEntries(events: SseEvent[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const event of events) {
    try {
      entries.push(JSON.parse(event.data) as LogEntry);
    } catch {
      // Not an entry (this server sends nothing else); skipped.
    }
  }
  return entries;
}

/** A job: its live log (resumed with Last-Event-ID on a drop), per-host status, cancel and relaunch. */
export function JobPage(props: { id: string }) {
  const { query } = useLocation();
  const host = query.get('host') ?? '';
  const operates = useCan('operator');
  const [job, setJob] = useState<Job | undefined>();
  const [slices, setSlices] = useState<Job[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [model] = useState(() => new LogModel());
  const [version, setVersion] = useState(0);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [matchIndex, setMatchIndex] = useState(0);
  const [matches, setMatches] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [connection, setConnection] = useState('connecting');
  const stream = useRef<Stream | undefined>(undefined);

  useEffect(() => {
    let frame = 0;
    let head: Stream | undefined;
    let headDone = false;
    const redraw = (): void => {
      // One redraw per frame however many batches arrive.
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setVersion(model.version));
    };
    const settle = (): void => {
      if (model.ended && headDone) setConnection('complete');
    };
    const fatal = (status: number): void =>
      setError(status === 404 ? `no job ${props.id}` : `the log could not be read (HTTP ${status})`);
    // The lines before the tail, read once in the background; search and the host filter cover them after.
    const loadHead = (firstSeq: number): void => {
      if (firstSeq <= 1) {
        headDone = true;
        return;
      }
      const collected: LogEntry[] = [];
      head = openStream(`/v1/jobs/${props.id}/events?from=1`, {
        stopBefore: (event) => Number(event.id) >= firstSeq,
        onEvents: (events) => {
          for (const entry of parseEntries(events)) collected.push(entry);
        },
        onDone: () => {
          model.prepend(collected);
          headDone = true;
          redraw();
          settle();
        },
        onFatal: fatal,
      });
    };
    // The end of the log first, so a long one shows its last screen at once; then live until `end`.
    const s = openStream(`/v1/jobs/${props.id}/events?tail=${TAIL_ENTRIES}`, {
      endOn: 'end',
      onOpen: () => setConnection('live'),
      onDrop: (reason) => setConnection(`reconnecting (${reason})`),
      onFatal: fatal,
      onEvents: (events) => {
        const opening = model.firstSeq === 0;
        model.append(parseEntries(events));
        if (opening && model.firstSeq > 0) loadHead(model.firstSeq);
        redraw();
        settle();
      },
    });
    stream.current = s;
    // Reachable from devtools (and the browser tests' line-by-line check): the log as this page holds it.
    (window as unknown as { outpostJobLog?: LogModel }).outpostJobLog = model;
    return () => {
      cancelAnimationFrame(frame);
      s.close();
      head?.close();
    };
  }, [props.id]);

  const final = job ? FINAL_STATUSES.includes(job.status) : false;
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const next = await get<Job>(`/v1/jobs/${props.id}`);
        // A sliced job: its slices, in slice order, refreshed with it.
        const parts = next.slices?.length ? await get<Job[]>('/v1/jobs', { parent: props.id }) : [];
        if (!alive) return;
        setJob(next);
        setSlices(parts);
        setError(undefined);
        if (!FINAL_STATUSES.includes(next.status)) timer = setTimeout(() => void load(), 2000);
      } catch (caught) {
        if (!alive) return;
        setError((caught as Error).message);
        // A dropped connection is retried; a job that does not exist is not.
        if ((caught as { status?: number }).status !== 404) timer = setTimeout(() => void load(), 2000);
      }
    };
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [props.id, model.ended]);

  useEffect(() => {
    if (final) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [final]);

  const status = job && FINAL_STATUSES.includes(job.status) ? job.status : (model.status ?? job?.status);
  const started = job?.startedAt ? Date.parse(job.startedAt) : undefined;
  const ended = job?.endedAt ? Date.parse(job.endedAt) : undefined;
  const elapsed = started ? ((ended ?? now) - started) / 1000 : 0;
  const summaries =
    job?.result && Object.keys(job.result).length > 0 ? new Map(Object.entries(job.result)) : model.hosts;
  const failedHosts = [...summaries]
    .filter(([, s]) => s.failed > 0 || s.unreachable > 0)
    .map(([name]) => name);

  const cancel = async (): Promise<void> => {
    try {
      setJob(await post<Job>(`/v1/jobs/${props.id}/cancel`));
    } catch (caught) {
      setError((caught as Error).message);
    }
  };
  const relaunch = async (): Promise<void> => {
    if (!job) return;
    try {
      const next = await post<Job>('/v1/jobs', {
        kind: job.kind,
        ...(job.project ? { project: job.project } : {}),
        hosts: failedHosts,
        ...(job.playbook ? { playbook: job.playbook } : {}),
        ...(job.options ? { options: job.options } : {}),
      });
      navigate(`/jobs/${next.id}`);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };
  const step = (delta: number): void => {
    if (matches === 0) return;
    setMatchIndex((current) => (current + delta + matches) % matches);
  };

  return (
    <section aria-labelledby="job-title" class="job">
      <h1 id="job-title">
        {job?.kind ?? 'Job'} <span class="mono">{props.id}</span> <StateBadge state={status} />
      </h1>
      <ErrorNote error={error} />
      <div class="job-head">
        <dl class="inline">
          <dt>Project</dt>
          <dd>{job?.project ?? '—'}</dd>
          <dt>Created</dt>
          <dd>{formatTime(job?.createdAt)}</dd>
          <dt>Elapsed</dt>
          <dd data-elapsed>{started ? formatDuration(elapsed) : 'not started'}</dd>
          <dt>Stream</dt>
          <dd data-connection={connection.split(' ')[0]}>{connection}</dd>
          {job?.parent && (
            <>
              <dt>Slice</dt>
              <dd>
                <span class="mono">{job.slice?.label}</span> of{' '}
                <Link href={`/jobs/${job.parent}`}>{job.parent}</Link>
              </dd>
            </>
          )}
        </dl>
        {job?.reason && <p class="reason">{job.reason}</p>}
        <div class="actions">
          {operates && (
            <button
              type="button"
              class="danger"
              disabled={!job || final || job.cancelRequested}
              onClick={() => void cancel()}
            >
              {job?.cancelRequested ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
          {operates && (
            <button
              type="button"
              disabled={
                !final || failedHosts.length === 0 || job?.kind === 'enroll' || job?.kind === 'prepare-proxy'
              }
              title={
                job?.kind === 'enroll'
                  ? 'enroll again from the Enroll page: credentials are never kept'
                  : undefined
              }
              onClick={() => void relaunch()}
            >
              Relaunch on {failedHosts.length} failed host{failedHosts.length === 1 ? '' : 's'}
            </button>
          )}
          <a class="button" href={`/v1/jobs/${props.id}/log`} download={`${props.id}.log`}>
            Download raw log
          </a>
        </div>
      </div>
      {slices.length > 0 && (
        <table class="slices" aria-label="Slices">
          <thead>
            <tr>
              <th scope="col">Slice</th>
              <th scope="col">Status</th>
              <th scope="col">Hosts</th>
              <th scope="col">Worker</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {slices.map((slice) => (
              <tr key={slice.id} data-slice={slice.slice?.label}>
                <td>
                  <Link href={`/jobs/${slice.id}`}>{slice.slice?.label ?? slice.id}</Link>
                </td>
                <td>
                  <StateBadge state={slice.status} title={slice.reason} />
                </td>
                <td>{slice.hosts?.length ?? 0}</td>
                <td class="mono">{slice.worker ?? '—'}</td>
                <td>{formatRun(slice, '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <HostStatusPanel
        summaries={summaries}
        selected={host}
        onSelect={(name) => setQuery({ host: name === host ? undefined : name })}
      />
      <div class="log-tools" role="search">
        <label>
          Search the log
          <input
            type="search"
            value={search}
            onInput={(event) => {
              setSearch(event.currentTarget.value);
              setMatchIndex(0);
            }}
            onKeyDown={(event) => {
              if (event.key === 'Enter') step(event.shiftKey ? -1 : 1);
            }}
          />
        </label>
        <span aria-live="polite" data-matches={matches}>
          {search.trim() ? `${matches === 0 ? 0 : matchIndex + 1} of ${matches}` : ''}
        </span>
        <button type="button" disabled={matches === 0} onClick={() => step(-1)} aria-label="Previous match">
          ↑
        </button>
        <button type="button" disabled={matches === 0} onClick={() => step(1)} aria-label="Next match">
          ↓
        </button>
        <label>
          Host
          <select
            value={host}
            onChange={(event) => setQuery({ host: event.currentTarget.value || undefined })}
          >
            <option value="">all hosts</option>
            {[...summaries.keys()].map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={follow}
            onChange={(event) => setFollow(event.currentTarget.checked)}
          />
          Follow
        </label>
      </div>
      <LogView
        model={model}
        version={version}
        host={host}
        search={search}
        matchIndex={matchIndex}
        follow={follow}
        onMatches={setMatches}
      />
    </section>
  );
}
