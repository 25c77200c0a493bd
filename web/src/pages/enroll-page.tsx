import { useEffect, useState } from 'preact/hooks';
import { get, getText, post } from '../api.ts';
import { CredentialsFields, toJobCredentials, type Credentials } from '../components/credentials-fields.tsx';
import { ErrorNote } from '../components/error-note.tsx';
import { HostPicker } from '../components/host-picker.tsx';
import { Link } from '../components/link.tsx';
import { ProjectSelect } from '../components/project-select.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { setQuery, useLocation } from '../router.ts';
import { FINAL_STATUSES, type Host, type Job, type Project } from '../types.ts';
import { usePoll } from '../use-poll.ts';

/**
 * Enroll: give a password or key once (sent in the job, never shown back, the field cleared), or run
 * the enrollment script and probe; then per host, each way tried and why it failed.
 */
export function EnrollPage() {
  const { query } = useLocation();
  const projects = usePoll(() => get<Project[]>('/v1/projects'), 0);
  const project = query.get('project') ?? projects.value?.[0]?.id ?? '';
  const way = query.get('way') === 'script' ? 'script' : 'credentials';
  const hosts = usePoll(() => (project ? get<Host[]>('/v1/hosts', { project }) : Promise.resolve([])), 0, [
    project,
  ]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [credentials, setCredentials] = useState<Credentials>({ user: '', way: 'password', secret: '' });
  const [script, setScript] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);
  const [job, setJob] = useState<Job | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    setSelected(
      new Set((hosts.value ?? []).filter((host) => host.login.state !== 'enrolled').map((host) => host.id)),
    );
  }, [hosts.value === undefined, project]);

  useEffect(() => {
    setScript(undefined);
    if (way !== 'script' || !project) return;
    getText(`/v1/projects/${project}/enroll-script`).then(setScript, (caught: Error) =>
      setError(caught.message),
    );
  }, [way, project]);

  // Follow the submitted job to its end, then show what it found per host (read after the end).
  const [found, setFound] = useState<Host[] | undefined>();
  useEffect(() => {
    if (!job) return;
    if (FINAL_STATUSES.includes(job.status)) {
      get<Host[]>('/v1/hosts', { project: job.project }).then(
        (list) => setFound(list.filter((host) => job.hosts?.includes(host.id))),
        (caught: Error) => setError(caught.message),
      );
      hosts.reload();
      return;
    }
    const timer = setTimeout(
      () => void get<Job>(`/v1/jobs/${job.id}`).then(setJob, (caught: Error) => setError(caught.message)),
      1000,
    );
    return () => clearTimeout(timer);
  }, [job]);

  const submit = async (kind: 'enroll' | 'probe'): Promise<void> => {
    setError(undefined);
    try {
      const body =
        kind === 'enroll'
          ? { kind, project, hosts: [...selected], credentials: toJobCredentials(credentials) }
          : { kind, project, hosts: [...selected], options: { enrolledBy: 'script' } };
      setFound(undefined);
      setJob(await post<Job>('/v1/jobs', body));
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      // The secret was sent once; it does not stay in the page.
      setCredentials((current) => ({ ...current, secret: '' }));
    }
  };

  return (
    <section aria-labelledby="enroll-title">
      <h1 id="enroll-title">Enroll hosts</h1>
      <div class="filters">
        <ProjectSelect
          projects={projects.value ?? []}
          value={project}
          onChange={(id) => setQuery({ project: id })}
        />
        <div role="tablist" aria-label="How to enroll" class="tabs">
          <button
            type="button"
            role="tab"
            aria-selected={way === 'credentials'}
            onClick={() => setQuery({ way: undefined })}
          >
            Password or key
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={way === 'script'}
            onClick={() => setQuery({ way: 'script' })}
          >
            Enrollment script
          </button>
        </div>
      </div>
      <ErrorNote error={error ?? projects.error ?? hosts.error} />
      <HostPicker
        hosts={hosts.value ?? []}
        selected={selected}
        onChange={setSelected}
        legend="Hosts to enroll"
      />
      {way === 'credentials' ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void submit('enroll');
          }}
        >
          <CredentialsFields idPrefix="enroll" value={credentials} onChange={setCredentials} />
          <button type="submit" disabled={!project || selected.size === 0 || credentials.secret === ''}>
            Enroll {selected.size} host{selected.size === 1 ? '' : 's'}
          </button>
        </form>
      ) : (
        <div class="script">
          <p>Run this as root on each VM, then probe the hosts so Outpost records them.</p>
          <div class="actions">
            <button
              type="button"
              disabled={!script}
              onClick={() => {
                void navigator.clipboard.writeText(script ?? '').then(
                  () => setCopied(true),
                  () => setCopied(false),
                );
              }}
            >
              Copy script
            </button>
            <span aria-live="polite">{copied ? 'Copied.' : ''}</span>
            <button
              type="button"
              disabled={!project || selected.size === 0}
              onClick={() => void submit('probe')}
            >
              Probe {selected.size} host{selected.size === 1 ? '' : 's'}
            </button>
          </div>
          <pre class="mono script-text" tabIndex={0} aria-label="Enrollment script">
            {script ?? 'Loading…'}
          </pre>
        </div>
      )}
      {job && (
        <div class="result" aria-live="polite">
          <h2>
            {job.kind} <Link href={`/jobs/${job.id}`}>{job.id}</Link> <StateBadge state={job.status} />
          </h2>
          {job.reason && <p class="reason">{job.reason}</p>}
          {found && (
            <table class="list" aria-label="Result per host">
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col">Login</th>
                  <th scope="col">Ways tried</th>
                  <th scope="col">First error</th>
                </tr>
              </thead>
              <tbody>
                {found.map((host) => {
                  const summary = job.result?.[host.id];
                  return (
                    <tr key={host.id} data-host={host.id}>
                      <th scope="row">
                        <Link href={`/hosts/${host.id}`}>{host.id}</Link>
                      </th>
                      <td>
                        <StateBadge state={host.login.state} /> {host.login.reason ?? ''}
                      </td>
                      <td>
                        <ul class="ways-list">
                          {Object.entries(host.probe?.ways ?? {}).map(([name, result]) => (
                            <li key={name}>
                              {name}:{' '}
                              {result.ok
                                ? 'ok'
                                : `${result.reason ?? 'failed'}${result.detail ? ` — ${result.detail}` : ''}`}
                            </li>
                          ))}
                        </ul>
                      </td>
                      <td class="reason">
                        {summary?.firstError ? `${summary.firstError.task}: ${summary.firstError.msg}` : ''}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
