import { get } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { Link } from '../components/link.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { formatRun, formatTime } from '../format.ts';
import { setQuery, useLocation } from '../router.ts';
import { JOB_KINDS, JOB_STATUSES, type Job } from '../types.ts';
import { usePoll } from '../use-poll.ts';

/** Jobs, newest first, filtered by status, kind and host (in the URL), refreshed every few seconds. */
export function JobsPage() {
  const { query } = useLocation();
  const status = query.get('status') ?? '';
  const kind = query.get('kind') ?? '';
  const host = query.get('host') ?? '';
  const jobs = usePoll(
    () =>
      get<Job[]>('/v1/jobs', {
        status,
        kind,
        host: /^[a-z][a-z0-9-]{0,62}$/.test(host) ? host : undefined,
        limit: '200',
      }),
    3000,
    [status, kind, host],
  );
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <div class="filters">
        <label>
          Status
          <select
            value={status}
            onChange={(event) => setQuery({ status: event.currentTarget.value || undefined })}
          >
            <option value="">all</option>
            {JOB_STATUSES.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select
            value={kind}
            onChange={(event) => setQuery({ kind: event.currentTarget.value || undefined })}
          >
            <option value="">all</option>
            {JOB_KINDS.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Host
          <input
            type="search"
            value={host}
            placeholder="host id"
            onChange={(event) => setQuery({ host: event.currentTarget.value.trim() || undefined })}
          />
        </label>
      </div>
      <ErrorNote error={jobs.error} />
      <table class="list">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Kind</th>
            <th scope="col">Project</th>
            <th scope="col">Hosts</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {(jobs.value ?? []).map((job) => (
            <tr key={job.id} data-job={job.id}>
              <th scope="row">
                <Link href={`/jobs/${job.id}`}>{job.id}</Link>
              </th>
              <td>{job.kind}</td>
              <td>{job.project ?? '—'}</td>
              <td class="reason">
                {job.hosts?.join(', ') ?? (job.selector ? JSON.stringify(job.selector) : 'all')}
              </td>
              <td>
                <StateBadge state={job.status} title={job.reason} />
              </td>
              <td>{formatTime(job.createdAt)}</td>
              <td>{formatRun(job)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {jobs.value?.length === 0 && <p class="empty">No job matches.</p>}
    </section>
  );
}
