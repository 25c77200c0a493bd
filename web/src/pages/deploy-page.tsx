import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { HostPicker } from '../components/host-picker.tsx';
import { ProjectSelect } from '../components/project-select.tsx';
import { setQuery, useLocation } from '../router.ts';
import { submitJobs } from '../submit-jobs.ts';
import type { Host, Project } from '../types.ts';
import { usePoll } from '../use-poll.ts';

/** Deploy: pick hosts of a project (or come from the fleet with ?hosts=), submit, land on the job page. */
export function DeployPage() {
  const { query } = useLocation();
  const projects = usePoll(() => get<Project[]>('/v1/projects'), 0);
  const project = query.get('project') ?? projects.value?.[0]?.id ?? '';
  const hosts = usePoll(() => (project ? get<Host[]>('/v1/hosts', { project }) : Promise.resolve([])), 0, [
    project,
  ]);
  const [selected, setSelected] = useState<Set<string>>(
    new Set((query.get('hosts') ?? '').split(',').filter(Boolean)),
  );
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  // Once per project (unless the fleet sent hosts): preselect its hosts Outpost can log in to.
  const [seeded, setSeeded] = useState('');
  useEffect(() => {
    if (!hosts.value || seeded === project) return;
    setSeeded(project);
    if (query.get('hosts')) return;
    setSelected(
      new Set(hosts.value.filter((host) => host.login.state === 'enrolled').map((host) => host.id)),
    );
  }, [hosts.value, project]);

  const chosen = (hosts.value ?? []).filter((host) => selected.has(host.id));
  return (
    <section aria-labelledby="deploy-title">
      <h1 id="deploy-title">Deploy the agent</h1>
      <div class="filters">
        <ProjectSelect
          projects={projects.value ?? []}
          value={project}
          onChange={(id) => setQuery({ project: id, hosts: undefined })}
        />
      </div>
      <ErrorNote error={error ?? projects.error ?? hosts.error} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          submitJobs('deploy-agent', chosen)
            .catch((caught: Error) => setError(caught.message))
            .finally(() => setBusy(false));
        }}
      >
        <HostPicker
          hosts={hosts.value ?? []}
          selected={selected}
          onChange={setSelected}
          legend="Hosts to deploy to"
        />
        <button type="submit" disabled={busy || chosen.length === 0}>
          Deploy to {chosen.length} host{chosen.length === 1 ? '' : 's'}
        </button>
      </form>
    </section>
  );
}
