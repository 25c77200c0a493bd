import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { HostTable, type SortKey } from '../components/host-table.tsx';
import { setQuery, useLocation } from '../router.ts';
import { submitJobs } from '../submit-jobs.ts';
import type { Host, Project, Proxy } from '../types.ts';
import { useCan } from '../use-can.ts';
import { useEvents } from '../use-events.ts';
import { proxyOf, silentReason } from '../host-facts.ts';

const AGENT_STATES = ['none', 'deployed', 'reporting', 'silent', 'not-reporting', 'removed'] as const;

/** Fleet: every host, counts per agent state, filters in the URL, live from GET /v1/events. */
export function FleetPage() {
  const { query } = useLocation();
  const project = query.get('project') ?? '';
  const state = query.get('state') ?? '';
  const text = query.get('q') ?? '';
  const sort = query.get('sort') ?? 'id';
  const [hosts, setHosts] = useState<Map<string, Host>>(new Map());
  const [projects, setProjects] = useState<Project[]>([]);
  const [proxies, setProxies] = useState<Proxy[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [filterText, setFilterText] = useState(text);
  const pending = useRef<Map<string, Host | null>>(new Map());
  const loaded = useRef(false);

  const load = async (): Promise<void> => {
    try {
      const [list, projectList, proxyList] = await Promise.all([
        get<Host[]>('/v1/hosts'),
        get<Project[]>('/v1/projects'),
        get<Proxy[]>('/v1/proxies'),
      ]);
      const map = new Map(list.map((host) => [host.id, host]));
      // Events that came while the list loaded are newer than it.
      for (const [id, host] of pending.current) {
        if (host === null) map.delete(id);
        else map.set(id, { ...host, metrics: map.get(id)?.metrics ?? host.metrics });
      }
      pending.current.clear();
      loaded.current = true;
      setHosts(map);
      setProjects(projectList);
      setProxies(proxyList);
      setError(undefined);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 30_000);
    return () => clearInterval(timer);
  }, []);

  useEvents((events) => {
    const changes = new Map<string, Host | null>();
    let proxiesChanged = false;
    for (const event of events) {
      if (event.type === 'host') {
        const id = String(event.data.id);
        changes.set(id, event.data.action === 'deleted' ? null : (event.data.host as Host));
      } else if (event.type === 'proxy' || event.type === 'project') proxiesChanged = true;
    }
    if (proxiesChanged) void load();
    if (changes.size === 0) return;
    if (!loaded.current) {
      for (const [id, host] of changes) pending.current.set(id, host);
      return;
    }
    setHosts((previous) => {
      const next = new Map(previous);
      for (const [id, host] of changes) {
        if (host === null) next.delete(id);
        else next.set(id, { ...host, metrics: previous.get(id)?.metrics ?? host.metrics });
      }
      return next;
    });
  });

  // The text box answers at once; the URL follows a moment later.
  useEffect(() => {
    const timer = setTimeout(() => setQuery({ q: filterText || undefined }), 300);
    return () => clearTimeout(timer);
  }, [filterText]);

  const all = useMemo(() => [...hosts.values()], [hosts]);
  const counts = useMemo(() => {
    const byState = new Map<string, number>();
    for (const host of all) byState.set(host.agent.state, (byState.get(host.agent.state) ?? 0) + 1);
    return byState;
  }, [all]);
  const needle = filterText.trim().toLowerCase();
  // Sorted and made searchable once per change of the hosts; a keystroke only filters.
  const sorted = useMemo(
    () => sortHosts(all, sort, proxies).map((host) => [host, searchText(host, proxies)] as const),
    [all, sort, proxies],
  );
  const shown = useMemo(
    () =>
      sorted
        .filter(
          ([host, text]) =>
            (project === '' || host.project === project) &&
            (state === '' || host.agent.state === state) &&
            (needle === '' || text.includes(needle)),
        )
        .map(([host]) => host),
    [sorted, project, state, needle],
  );

  const operates = useCan('operator');
  const chosen = all.filter((host) => selected.has(host.id));
  const act = async (kind: string): Promise<void> => {
    setBusy(true);
    try {
      await submitJobs(kind, chosen);
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <div class="counts" role="group" aria-label="Hosts per agent state">
        <button
          type="button"
          class="count"
          aria-pressed={state === ''}
          onClick={() => setQuery({ state: undefined })}
        >
          <strong data-count="all">{all.length}</strong> hosts
        </button>
        {AGENT_STATES.map((name) => (
          <button
            type="button"
            key={name}
            class={`count s-${name}`}
            aria-pressed={state === name}
            onClick={() => setQuery({ state: state === name ? undefined : name })}
          >
            <strong data-count={name}>{counts.get(name) ?? 0}</strong> {name}
          </button>
        ))}
      </div>
      <div class="filters">
        <label>
          Project
          <select
            value={project}
            onChange={(event) => setQuery({ project: event.currentTarget.value || undefined })}
          >
            <option value="">all</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent state
          <select
            value={state}
            onChange={(event) => setQuery({ state: event.currentTarget.value || undefined })}
          >
            <option value="">all</option>
            {AGENT_STATES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Search
          <input
            type="search"
            placeholder="name, address, network, reason…"
            value={filterText}
            onInput={(event) => setFilterText(event.currentTarget.value)}
          />
        </label>
      </div>
      {operates && (
        <div class="actions" role="group" aria-label="Actions on the selected hosts">
          <span aria-live="polite">{chosen.length} selected</span>
          <button
            type="button"
            disabled={busy || chosen.length === 0}
            onClick={() => void act('deploy-agent')}
          >
            Deploy agent
          </button>
          <button type="button" disabled={busy || chosen.length === 0} onClick={() => void act('probe')}>
            Probe
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy || chosen.length === 0}
            onClick={() => void act('remove-agent')}
          >
            Remove agent
          </button>
        </div>
      )}
      <ErrorNote error={error} />
      <p class="shown" aria-live="polite">
        Showing <span data-shown>{shown.length}</span> of {all.length}
      </p>
      <HostTable
        hosts={shown}
        proxies={proxies}
        sort={sort}
        onSort={(key) => setQuery({ sort: key === 'id' ? undefined : key })}
        {...(operates ? { selection: { selected, onSelect: setSelected } } : {})}
      />
    </section>
  );
}

function searchText(host: Host, proxies: Proxy[]): string {
  return [
    host.id,
    host.project,
    host.address,
    host.network ?? '',
    proxyOf(host, proxies) ?? '',
    host.login.state,
    host.reach ?? '',
    host.agent.state,
    silentReason(host) ?? '',
  ]
    .join(' ')
    .toLowerCase();
}

function sortHosts(rows: Host[], sort: SortKey, proxies: Proxy[]): Host[] {
  const descending = sort.startsWith('-');
  const key = descending ? sort.slice(1) : sort;
  const value = (host: Host): string => {
    switch (key) {
      case 'project':
        return host.project;
      case 'address':
        return host.address;
      case 'proxy':
        return proxyOf(host, proxies) ?? '';
      case 'login':
        return host.login.state;
      case 'reach':
        return host.reach ?? '';
      case 'uplink':
        return host.agent.uplink ?? '';
      case 'agent':
        return host.agent.state;
      case 'seen':
        return host.metrics?.lastSeen ?? host.agent.lastSeen ?? '';
      default:
        return host.id;
    }
  };
  const sorted = rows.map((host) => [value(host), host] as const);
  sorted.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1].id < b[1].id ? -1 : 1));
  const out = sorted.map(([, host]) => host);
  return descending ? out.reverse() : out;
}
