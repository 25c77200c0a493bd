import { useMemo } from 'preact/hooks';
import { get } from '../api.ts';
import { Chart } from '../components/chart.tsx';
import { ErrorNote } from '../components/error-note.tsx';
import { Link } from '../components/link.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { formatAgo, formatTime } from '../format.ts';
import { lastSeenOf, silentReason } from '../host-facts.ts';
import { setQuery, useLocation } from '../router.ts';
import type { Host, Job, SeriesLine } from '../types.ts';
import { usePoll } from '../use-poll.ts';

const NO_LINES: SeriesLine[] = [];
const RANGES = ['15m', '1h', '24h'] as const;
const CHARTS: [metric: SeriesLine['metric'], title: string][] = [
  ['cpu', 'CPU used'],
  ['mem', 'Memory used'],
  ['load', 'Load'],
  ['disk', 'Disk used per mount'],
  ['net', 'Network'],
];

/** A host: its facts, how Outpost reaches it, the jobs that touched it, and its agent's metrics. */
export function HostPage(props: { id: string }) {
  const { query } = useLocation();
  const range = RANGES.find((r) => r === query.get('range')) ?? '1h';
  const host = usePoll(() => get<Host>(`/v1/hosts/${props.id}`), 10_000, [props.id]);
  const jobs = usePoll(() => get<Job[]>('/v1/jobs', { host: props.id, limit: '50' }), 10_000, [props.id]);
  const series = usePoll(
    () => get<{ series: SeriesLine[]; from: string; to: string }>(`/v1/hosts/${props.id}/series`, { range }),
    range === '24h' ? 60_000 : 10_000,
    [props.id, range],
  );
  const h = host.value;
  // One array per chart, new only when the series change (a chart redraws when its lines change).
  const byMetric = useMemo(() => {
    const groups = new Map<string, SeriesLine[]>();
    for (const line of series.value?.series ?? [])
      groups.set(line.metric, [...(groups.get(line.metric) ?? []), line]);
    return groups;
  }, [series.value]);
  const chartWindow = useMemo<[number, number]>(
    () => (series.value ? [Date.parse(series.value.from), Date.parse(series.value.to)] : [0, 0]),
    [series.value],
  );
  return (
    <section aria-labelledby="host-title">
      <h1 id="host-title">
        Host <span class="mono">{props.id}</span>
      </h1>
      <ErrorNote error={host.error} />
      {h && (
        <div class="cards">
          <dl class="card" aria-label="Facts">
            <dt>Project</dt>
            <dd>{h.project}</dd>
            <dt>Address</dt>
            <dd class="mono">
              {h.address}:{h.sshPort}
            </dd>
            <dt>Network</dt>
            <dd>{h.network ?? '—'}</dd>
            <dt>OS</dt>
            <dd>{h.facts?.os ?? '—'}</dd>
            <dt>Arch</dt>
            <dd>{h.facts?.arch ?? '—'}</dd>
            <dt>Python</dt>
            <dd>{h.facts?.python ? `${h.facts.python} (${h.facts.interpreter ?? '?'})` : '—'}</dd>
          </dl>
          <dl class="card" aria-label="Access">
            <dt>Login</dt>
            <dd>
              <StateBadge state={h.login.state} /> {h.login.way ?? ''} {h.login.reason ?? ''}
            </dd>
            <dt>Reach</dt>
            <dd>{h.reach ?? '—'}</dd>
            <dt>Uplink</dt>
            <dd>{h.agent.uplink ?? '—'}</dd>
            <dt>Agent</dt>
            <dd data-agent-state={h.agent.state}>
              <StateBadge state={h.agent.state} /> {silentReason(h) ?? ''}
            </dd>
            <dt>Last seen</dt>
            <dd title={lastSeenOf(h) ?? ''}>{formatAgo(lastSeenOf(h))}</dd>
          </dl>
          <div class="card" aria-label="Last probe">
            <h2>Last probe {h.probe ? <small>{formatTime(h.probe.at)}</small> : null}</h2>
            {h.probe ? (
              <table class="ways">
                <thead>
                  <tr>
                    <th scope="col">Way</th>
                    <th scope="col">Result</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(h.probe.ways).map(([way, result]) => (
                    <tr key={way}>
                      <th scope="row">{way}</th>
                      <td>
                        <StateBadge state={result.ok ? 'ok' : 'failed'} />
                      </td>
                      <td>{result.ok ? '' : `${result.reason ?? ''} ${result.detail ?? ''}`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>Not probed yet.</p>
            )}
          </div>
        </div>
      )}
      <h2 id="metrics-title">Agent metrics</h2>
      <div class="range" role="group" aria-labelledby="metrics-title">
        {RANGES.map((r) => (
          <button
            type="button"
            key={r}
            aria-pressed={range === r}
            onClick={() => setQuery({ range: r === '1h' ? undefined : r })}
          >
            Last {r === '15m' ? '15 minutes' : r === '1h' ? 'hour' : '24 hours'}
          </button>
        ))}
      </div>
      <ErrorNote error={series.error} />
      <div class="charts">
        {CHARTS.map(([metric, title]) => (
          <Chart
            key={metric}
            title={title}
            unit={
              metric === 'cpu' || metric === 'mem' || metric === 'disk' ? '%' : metric === 'net' ? 'B/s' : ''
            }
            lines={byMetric.get(metric) ?? NO_LINES}
            window={chartWindow}
          />
        ))}
      </div>
      <h2>Jobs that touched it</h2>
      <ErrorNote error={jobs.error} />
      <table class="list">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Result here</th>
          </tr>
        </thead>
        <tbody>
          {(jobs.value ?? []).map((job) => {
            const mine = job.result?.[props.id];
            return (
              <tr key={job.id}>
                <th scope="row">
                  <Link href={`/jobs/${job.id}`}>{job.id}</Link>
                </th>
                <td>{job.kind}</td>
                <td>
                  <StateBadge state={job.status} />
                </td>
                <td>{formatTime(job.createdAt)}</td>
                <td>
                  {mine
                    ? `ok=${mine.ok} changed=${mine.changed} failed=${mine.failed} unreachable=${mine.unreachable}`
                    : ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
