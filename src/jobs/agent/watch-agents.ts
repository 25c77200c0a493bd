import type { Host, HostAgent, SilentCause } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import type { Heartbeat, MetricsBackend } from '../../metrics/metrics-backend.ts';
import type { Registry } from '../../registry/registry.ts';
import { oneLine } from '../../ssh/classify-ssh-failure.ts';
import type { OpenAlerts } from './create-open-alerts.ts';
import { isoTime } from './agent-verdict.ts';
import { diagnoseSilence, type SilenceChecks } from './diagnose-silence.ts';
import { mapLimit } from '../runtime/map-limit.ts';

/** States the watch looks after: an agent a deploy proved, and one the watch found silent. */
const WATCHED: ReadonlySet<HostAgent['state']> = new Set(['reporting', 'reporting-old-config', 'silent']);

/** One change of a host's agent the watch recorded: reporting -> silent, or silent -> reporting. */
export interface AgentTransition {
  host: string;
  project: string;
  /** The proxy carrying SSH (and the uplink) to the host, when it has one. */
  proxy?: string;
  from: HostAgent['state'];
  to: 'silent' | 'reporting' | 'reporting-old-config';
  /** When the watch saw it (ISO-8601). */
  at: string;
  /** Newest point of the host (ISO-8601), when InfluxDB has one in the window. */
  lastSeen?: string;
  /** For `silent`: why, as a code and in words. */
  cause?: SilentCause;
  reason?: string;
  /** For a recovery: when it had gone silent (the alert's start). */
  silentSince?: string;
}

/** What a watch run needs; given by the app (or a test). */
export interface WatchDeps {
  registry: Pick<Registry, 'listProjects' | 'listHosts' | 'listProxies' | 'getHost' | 'updateHost'>;
  metrics: Pick<MetricsBackend, 'heartbeats'>;
  /** Runs `work` with live checks for a project's silent hosts (an SSH inventory of them behind it). */
  withChecks<T>(
    project: string,
    hosts: Host[],
    proxies: Proxy[],
    work: (checks: SilenceChecks) => Promise<T>,
  ): Promise<T>;
  /** The silent alerts sent and not yet resolved. */
  alerts: OpenAlerts;
  /** A host whose newest point is older than this is silent. */
  silentAfterMs: number;
  /** Hosts diagnosed at once (each may cost one SSH command). Default 16. */
  concurrency?: number;
  now?: () => number;
}

/** Every project's transitions of one watch run, by project (projects without any are left out). */
export async function watchAgents(deps: WatchDeps): Promise<Map<string, AgentTransition[]>> {
  const found = new Map<string, AgentTransition[]>();
  for (const project of await deps.registry.listProjects()) {
    const transitions = await watchProject(deps, project.id);
    if (transitions.length > 0) found.set(project.id, transitions);
  }
  return found;
}

/**
 * One project's part of a watch run: one InfluxDB query for the newest heartbeat of all its hosts; a
 * watched host without a point for `silentAfterMs` turns `silent` (with the most likely reason, see
 * diagnoseSilence), a silent one with a fresh point turns back to reporting. Each change is written to
 * the registry (which publishes it on the event stream) and returned.
 */
export async function watchProject(deps: WatchDeps, project: string): Promise<AgentTransition[]> {
  const hosts = (await deps.registry.listHosts({ project })).filter((host) => WATCHED.has(host.agent.state));
  if (hosts.length === 0) return [];
  const now = deps.now?.() ?? Date.now();
  const at = new Date(now).toISOString();
  // Far enough back to name the newest point of a host that just went quiet.
  const since = new Date(now - Math.max(3600_000, 3 * deps.silentAfterMs));
  const beats = await deps.metrics.heartbeats(since, project).then(
    (map) => ({ ok: true as const, map }),
    (error: Error) => ({ ok: false as const, error: error.message }),
  );
  const proxies = await deps.registry.listProxies({ project });
  const proxyOf = (host: Host): Proxy | undefined => selectProxy(host, proxies);
  const fresh = (beat: Heartbeat | undefined): boolean =>
    beat !== undefined && now - Date.parse(beat.time) <= deps.silentAfterMs;

  const open = await deps.alerts.list(project);
  const quiet: Host[] = [];
  const transitions: AgentTransition[] = [];
  // Reporting again after a deploy (a heal, an operator's) wrote its state first: only the alert is left.
  const resolvedOnly: AgentTransition[] = [];
  for (const host of hosts) {
    const beat = beats.ok ? beats.map.get(host.id) : undefined;
    const silentSince = open.get(host.id);
    if (host.agent.state !== 'silent' && silentSince !== undefined && beat && fresh(beat)) {
      resolvedOnly.push({
        ...where(host, proxyOf(host)),
        from: 'silent',
        to: host.agent.state === 'reporting' ? 'reporting' : 'reporting-old-config',
        at,
        lastSeen: isoTime(beat.time),
        silentSince,
      });
      continue;
    }
    if (host.agent.state === 'silent') {
      if (!fresh(beat) || !beat) continue;
      const to =
        host.agent.config === undefined || beat.config === host.agent.config
          ? 'reporting'
          : 'reporting-old-config';
      transitions.push({
        ...where(host, proxyOf(host)),
        from: 'silent',
        to,
        at,
        lastSeen: isoTime(beat.time),
        ...((silentSince ?? host.agent.since) ? { silentSince: silentSince ?? host.agent.since } : {}),
      });
    } else if (!beats.ok || !fresh(beat)) quiet.push(host);
  }

  if (quiet.length > 0) {
    const lastSeenOf = (host: Host): string | undefined => {
      const beat = beats.ok ? beats.map.get(host.id) : undefined;
      return beat ? isoTime(beat.time) : host.agent.lastSeen;
    };
    const diagnosed = beats.ok
      ? await deps.withChecks(project, quiet, proxies, async (checks) => {
          const out = new Map<string, Awaited<ReturnType<typeof diagnoseSilence>>>();
          await mapLimit(quiet, deps.concurrency ?? 16, async (host) => {
            out.set(host.id, await diagnoseSilence(host, proxyOf(host), checks, lastSeenOf(host)));
          });
          return out;
        })
      : // The query itself failed: no point can be read, so none can be stored either.
        new Map(
          quiet.map((host) => [
            host.id,
            { cause: 'influx-down' as const, reason: `InfluxDB down: ${beats.error}` },
          ]),
        );
    for (const host of quiet) {
      const diagnosis = diagnosed.get(host.id);
      if (!diagnosis) continue;
      const lastSeen = lastSeenOf(host);
      transitions.push({
        ...where(host, proxyOf(host)),
        from: host.agent.state,
        to: 'silent',
        at,
        ...(lastSeen ? { lastSeen } : {}),
        cause: diagnosis.cause,
        reason: oneLine(diagnosis.reason),
      });
    }
  }

  const recorded: AgentTransition[] = [];
  for (const transition of transitions) {
    const host = hosts.find((candidate) => candidate.id === transition.host);
    if (!host || !(await record(deps, host, transition))) continue;
    if (transition.to === 'silent') await deps.alerts.open(project, transition.host, transition.at);
    recorded.push(transition);
  }
  recorded.push(...resolvedOnly);
  await deps.alerts.close(
    project,
    recorded.filter((t) => t.to !== 'silent').map((t) => t.host),
  );
  return recorded;
}

/** Writes a transition on the host unless its agent changed since the run read it (a deploy ended meanwhile). */
async function record(deps: WatchDeps, seen: Host, transition: AgentTransition): Promise<boolean> {
  const current = await deps.registry.getHost(seen.id).catch(() => undefined);
  if (!current || JSON.stringify(current.agent) !== JSON.stringify(seen.agent)) return false;
  const { reason: _reason, cause: _cause, since: _since, ...kept } = current.agent;
  const agent: HostAgent = {
    ...kept,
    state: transition.to,
    since: transition.at,
    ...(transition.lastSeen ? { lastSeen: transition.lastSeen } : {}),
    ...(transition.to === 'silent' ? { cause: transition.cause, reason: transition.reason } : {}),
  };
  await deps.registry.updateHost(seen.id, { agent });
  return true;
}

function where(host: Host, proxy: Proxy | undefined): Pick<AgentTransition, 'host' | 'project' | 'proxy'> {
  return { host: host.id, project: host.project, ...(proxy ? { proxy: proxy.id } : {}) };
}
